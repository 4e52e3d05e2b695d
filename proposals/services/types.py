"""Proposal types: the administrator sets an ordinance's rules, the election office enters the
register size on which a fraction threshold is based. Types are changed in place: a proposal's
goal and period were fixed when its collection opened, so an edit never moves them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from identity.audit import audit_record
from identity.errors import Conflict, InvalidFields, NotFound
from identity.models import Municipality, User
from identity.permissions import require
from proposals import permissions
from proposals.models import ProposalType, ThresholdKind


class TypeInvalid(InvalidFields):
    """Bad values for a proposal type, per field."""

    def __init__(self, errors: dict[str, list[str | Promise]]) -> None:
        super().__init__(errors, code="invalid_type")


@dataclass(frozen=True)
class ProposalTypeValues:
    """Everything the administrator decides about a type (not the register size: see below)."""

    name: str
    description: str = ""
    threshold_kind: str = ThresholdKind.FIXED
    threshold_fixed: int | None = None
    threshold_numerator: int = 1
    threshold_denominator: int = 50
    collection_days: int | None = None
    collection_until: date | None = None
    min_age: int = 18
    accepts_online: bool = True
    accepts_counter: bool = True
    accepts_paper: bool = False
    committee_size: int = 0
    certification_required: bool = False
    direct_demand: bool = False
    answer_deadline_days: int = 90
    inspection_days: int = 7
    signatures_withdrawable: bool = True
    is_active: bool = True


def _problems(
    municipality: Municipality, type_id: int | None, values: ProposalTypeValues
) -> dict[str, list[str | Promise]]:
    """The rules the database enforces as constraints, said in words a person understands."""
    errors: dict[str, list[str | Promise]] = {}

    def add(field: str, message: Promise) -> None:
        errors.setdefault(field, []).append(message)

    if not values.name.strip():
        add("name", _("Give the type a name."))
    else:
        same_name = ProposalType.objects.filter(municipality=municipality, name=values.name.strip())
        if type_id is not None:
            same_name = same_name.exclude(pk=type_id)
        if same_name.exists():
            add("name", _("Another proposal type here already has this name."))
    if values.threshold_kind not in ThresholdKind.values:
        add("threshold_kind", _("Choose how the threshold is set."))
    elif values.threshold_kind == ThresholdKind.FIXED:
        if not values.threshold_fixed or values.threshold_fixed < 1:
            add("threshold_fixed", _("Enter how many signatures are required (at least 1)."))
    else:
        if values.threshold_numerator < 1 or values.threshold_denominator < 1:
            add("threshold_denominator", _("Both parts of the fraction must be at least 1."))
        elif values.threshold_numerator > values.threshold_denominator:
            add("threshold_denominator", _("The fraction cannot be more than the whole register."))
    if (values.collection_days is None) == (values.collection_until is None):
        add(
            "collection_days",
            _("Enter either the number of collection days or the date collection ends, not both."),
        )
    elif values.collection_days is not None and values.collection_days < 1:
        add("collection_days", _("Collection lasts at least one day."))
    elif values.collection_until is not None and values.collection_until < timezone.localdate():
        add("collection_until", _("This date is in the past."))
    if not (values.accepts_online or values.accepts_counter or values.accepts_paper):
        add(NON_FIELD_ERRORS, _("Accept signatures through at least one channel."))
    if not 0 <= values.min_age <= 120:
        add("min_age", _("Enter an age between 0 and 120."))
    if values.answer_deadline_days < 1:
        add("answer_deadline_days", _("The council needs at least one day to answer."))
    if values.direct_demand and not (values.certification_required and values.accepts_paper):
        add(
            "direct_demand",
            _(
                "A direct demand is collected on paper and certified by the election office: "
                "tick both."
            ),
        )
    if values.certification_required and values.inspection_days < 1:
        add("inspection_days", _("A certified count is open to inspection for at least one day."))
    return errors


@transaction.atomic(durable=True)
def proposal_type_save(
    *,
    actor: User,
    municipality: Municipality,
    type_id: int | None,
    values: ProposalTypeValues,
) -> ProposalType:
    """Create a type (`type_id` None) or change one. Bad values raise `TypeInvalid`; nothing is
    written then."""
    require(permissions.can_manage_types(actor, municipality))
    if type_id is None:
        proposal_type = ProposalType(municipality=municipality)
        before: dict[str, object] = {}
    else:
        found = (
            ProposalType.objects.select_for_update()
            .filter(pk=type_id, municipality=municipality)
            .first()
        )
        if found is None:
            raise NotFound(_("No such proposal type here."), code="unknown_type")
        proposal_type = found
        before = {field: getattr(proposal_type, field) for field in asdict(values)}
    errors = _problems(municipality, type_id, values)
    if errors:
        raise TypeInvalid(errors)
    cleaned = asdict(values)
    cleaned["name"] = values.name.strip()
    cleaned["description"] = values.description.strip()
    if values.threshold_kind == ThresholdKind.FIXED:
        cleaned["threshold_numerator"], cleaned["threshold_denominator"] = 1, 50
    else:
        cleaned["threshold_fixed"] = None
    for field, value in cleaned.items():
        setattr(proposal_type, field, value)
    try:
        # Field limits (lengths, positive numbers) and the constraints, checked once more here.
        proposal_type.full_clean(exclude=["municipality"], validate_unique=False)
    except ValidationError as error:
        raise TypeInvalid(
            {field: list(messages) for field, messages in error.message_dict.items()}
        ) from None
    try:
        with transaction.atomic():
            if type_id is None:
                proposal_type.save(force_insert=True)
            else:
                proposal_type.save(update_fields=list(cleaned))
    except IntegrityError:  # a concurrent save took the name
        raise TypeInvalid(
            {"name": [_("Another proposal type here already has this name.")]}
        ) from None
    changed = {
        field: value for field, value in cleaned.items() if before.get(field, object()) != value
    }
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal_type.create" if type_id is None else "proposal_type.update",
        target=proposal_type,
        data={"changed": changed},
    )
    return proposal_type


@transaction.atomic(durable=True)
def proposal_type_register_set(
    *,
    actor: User,
    municipality: Municipality,
    type_id: int,
    register_size: int,
    register_date: date,
) -> ProposalType:
    """The election office enters the electoral register's size at its reference date; a fraction
    threshold is computed from it when a proposal opens collection."""
    require(permissions.can_enter_register_size(actor, municipality))
    proposal_type = (
        ProposalType.objects.select_for_update()
        .filter(pk=type_id, municipality=municipality)
        .first()
    )
    if proposal_type is None:
        raise NotFound(_("No such proposal type here."), code="unknown_type")
    if proposal_type.threshold_kind != ThresholdKind.REGISTER_FRACTION:
        raise Conflict(
            _("This type needs a fixed number of signatures, not a register size."),
            code="not_a_fraction",
        )
    if register_size < 1:
        raise TypeInvalid({"register_size": [_("Enter the number of people on the register.")]})
    if register_date > timezone.localdate():
        raise TypeInvalid({"register_date": [_("The reference date must not be in the future.")]})
    previous = (proposal_type.register_size, proposal_type.register_date)
    proposal_type.register_size, proposal_type.register_date = register_size, register_date
    proposal_type.save(update_fields=["register_size", "register_date"])
    audit_record(
        actor=actor,
        municipality=municipality,
        action="proposal_type.register_set",
        target=proposal_type,
        data={
            "register_size": register_size,
            "register_date": register_date,
            "previous": previous,
            "threshold": proposal_type.threshold(),
        },
    )
    return proposal_type
