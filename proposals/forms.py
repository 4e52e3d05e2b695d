from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from identity.dates import parse_date
from identity.models import Municipality
from proposals.models import (
    Collector,
    Decision,
    InvalidReason,
    Proposal,
    ProposalType,
    SignatureChannel,
    Status,
    ThresholdKind,
)


class ProposalFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(label=_("Status"), required=False)
    type = forms.ModelChoiceField(
        label=_("Type"), required=False, queryset=ProposalType.objects.none()
    )
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[
            ("new", _("Newest")),
            ("signatures", _("Most signatures")),
            ("closing", _("Closing soon")),
        ],
    )

    def __init__(self, *args: object, municipality: Municipality, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["status"].choices = [("", _("Any status"))] + [  # type: ignore[attr-defined]
            (value, label) for value, label in Status.choices if value != Status.DRAFT
        ]
        self.fields["type"].queryset = ProposalType.objects.filter(municipality=municipality)  # type: ignore[attr-defined]


class ProposalForm(forms.Form):
    type = forms.ModelChoiceField(label=_("Type"), queryset=ProposalType.objects.none())
    title = forms.CharField(label=_("Title"), max_length=120)
    summary = forms.CharField(
        label=_("Summary"), max_length=400, widget=forms.Textarea(attrs={"rows": 3})
    )
    body = forms.CharField(
        label=_("Proposal"),
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("You can use Markdown: **bold**, lists with -, headings with ##."),
    )
    category = forms.CharField(label=_("Category"), max_length=40, required=False)
    location = forms.CharField(label=_("Location (optional)"), max_length=120, required=False)

    def __init__(self, *args: object, municipality: Municipality, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["type"].queryset = ProposalType.objects.filter(  # type: ignore[attr-defined]
            municipality=municipality, is_active=True
        )


class ProposalEditForm(forms.Form):
    """The text of a proposal still being prepared; `based_on` is the revision count read, so a
    concurrent edit by a promoter is reported instead of overwritten."""

    title = forms.CharField(label=_("Title"), max_length=120)
    summary = forms.CharField(
        label=_("Summary"), max_length=400, widget=forms.Textarea(attrs={"rows": 3})
    )
    body = forms.CharField(
        label=_("Proposal"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("You can use Markdown: **bold**, lists with -, headings with ##."),
    )
    category = forms.CharField(label=_("Category"), max_length=40, required=False)
    location = forms.CharField(label=_("Location (optional)"), max_length=120, required=False)
    based_on = forms.IntegerField(min_value=0, required=False, widget=forms.HiddenInput)


# Staff forms -----------------------------------------------------------------------------------

_DATE_HELP = _("For example 1990-04-01 or 平成2年4月1日.")


class ProposalTypeForm(forms.Form):
    """Every rule of a proposal type the administrator sets; the service checks them again."""

    name = forms.CharField(label=_("Name"), max_length=80)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    threshold_kind = forms.ChoiceField(
        label=_("How the threshold is set"),
        choices=ThresholdKind.choices,
        widget=forms.RadioSelect,
    )
    threshold_fixed = forms.IntegerField(
        label=_("Signatures required"),
        required=False,
        min_value=1,
        help_text=_("For a fixed threshold, e.g. 10 for a citizen policy proposal."),
    )
    threshold_numerator = forms.IntegerField(
        label=_("Fraction of the register: numerator"), min_value=1, initial=1
    )
    threshold_denominator = forms.IntegerField(
        label=_("Fraction of the register: denominator"),
        min_value=1,
        initial=50,
        help_text=_(
            "For a register fraction, e.g. 1/50 for a direct demand. The election office enters "
            "the register size."
        ),
    )
    collection_days = forms.IntegerField(
        label=_("Collection period (days)"),
        required=False,
        min_value=1,
        help_text=_("Either a number of days from the opening, or the date below."),
    )
    collection_until = forms.DateField(
        label=_("Collection ends on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    min_age = forms.IntegerField(label=_("Minimum signer age"), min_value=0, max_value=120)
    accepts_online = forms.BooleanField(label=_("Online signatures"), required=False)
    accepts_counter = forms.BooleanField(label=_("Signatures at the counter"), required=False)
    accepts_paper = forms.BooleanField(label=_("Paper signature sheets"), required=False)
    committee_size = forms.IntegerField(
        label=_("Promoters' committee size"),
        min_value=0,
        max_value=1000,
        help_text=_("0 when no committee is required."),
    )
    certification_required = forms.BooleanField(
        label=_("The election office certifies the count"), required=False
    )
    direct_demand = forms.BooleanField(
        label=_("Direct demand under the Local Autonomy Act (art. 74)"),
        required=False,
        help_text=_(
            "The law then sets the collection period (one month; two in prefectures and "
            "designated cities), the blackout before elections and the registered collectors."
        ),
    )
    answer_deadline_days = forms.IntegerField(
        label=_("Council answer deadline (days)"), min_value=1, max_value=3650
    )
    inspection_days = forms.IntegerField(
        label=_("Public inspection period (days)"), min_value=0, max_value=365
    )
    signatures_withdrawable = forms.BooleanField(
        label=_("Signers may withdraw while collection is open"), required=False
    )
    is_active = forms.BooleanField(label=_("Open for new proposals"), required=False)

    FIELDS = (
        "name",
        "description",
        "threshold_kind",
        "threshold_fixed",
        "threshold_numerator",
        "threshold_denominator",
        "collection_days",
        "collection_until",
        "min_age",
        "accepts_online",
        "accepts_counter",
        "accepts_paper",
        "committee_size",
        "certification_required",
        "direct_demand",
        "answer_deadline_days",
        "inspection_days",
        "signatures_withdrawable",
        "is_active",
    )

    @classmethod
    def initial_of(cls, proposal_type: ProposalType | None) -> dict[str, object]:
        if proposal_type is None:
            return {
                "threshold_kind": ThresholdKind.FIXED,
                "threshold_numerator": 1,
                "threshold_denominator": 50,
                "min_age": 18,
                "accepts_online": True,
                "accepts_counter": True,
                "committee_size": 0,
                "answer_deadline_days": 90,
                "inspection_days": 7,
                "signatures_withdrawable": True,
                "is_active": True,
            }
        return {field: getattr(proposal_type, field) for field in cls.FIELDS}


class RegisterSizeForm(forms.Form):
    register_size = forms.IntegerField(
        label=_("Electoral register size"), min_value=1, max_value=100_000_000
    )
    register_date = forms.CharField(
        label=_("Register reference date"), max_length=40, help_text=_DATE_HELP
    )

    def clean_register_date(self) -> date:
        return _parsed_date(self.cleaned_data["register_date"])


def _parsed_date(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError:
        raise forms.ValidationError(
            _("This is not a date we can read. Write it like 1990-04-01 or 平成2年4月1日."),
            code="date",
        ) from None


class InvalidateForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why is it invalid?"), choices=[("", "—"), *InvalidReason.choices]
    )


class ObjectionAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Answer"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your objection"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Say which signatures or which part of the count you object to, and why."),
    )


class ClarificationForm(forms.Form):
    question = forms.CharField(
        label=_("Question for the author"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The author receives it by e-mail; it also appears on the public timeline."),
    )


class DocumentForm(forms.Form):
    title = forms.CharField(label=_("Document title"), max_length=120)
    file = forms.FileField(label=_("File"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("A PDF, PNG or JPEG file of up to %(mb)s MB.") % {
            "mb": f"{settings.MEBUKU_DOCUMENT_MAX_BYTES / (1024 * 1024):g}"
        }


class AnswerForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect
    )
    reasons = forms.CharField(
        label=_("Reasons"),
        min_length=20,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Published with the decision. You can use Markdown: **bold**, lists with -."),
    )


class CommitteeInviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address of the promoter to invite"),
        help_text=_("They need an account here and must confirm on this page."),
    )


class PaperSignatureForm(forms.Form):
    """A signature from a paper sheet or given at the counter, typed by a clerk."""

    proposal = forms.ModelChoiceField(label=_("Proposal"), queryset=Proposal.objects.none())
    channel = forms.ChoiceField(
        label=_("How was it given?"),
        choices=[
            (SignatureChannel.PAPER, SignatureChannel.PAPER.label),
            (SignatureChannel.COUNTER, SignatureChannel.COUNTER.label),
        ],
        widget=forms.RadioSelect,
    )
    sheet = forms.CharField(
        label=_("Sheet number"),
        max_length=40,
        required=False,
        help_text=_("Required for paper sheets; stays filled for the next entry."),
    )
    row = forms.IntegerField(
        label=_("Row on the sheet"),
        min_value=1,
        max_value=999,
        required=False,
        help_text=_("Direct demands: the row's number, so a rejected row can be traced."),
    )
    collector = forms.ModelChoiceField(
        label=_("Collector who carried the sheet"),
        queryset=Collector.objects.none(),
        required=False,
        help_text=_("Direct demands: only sheets of registered collectors count."),
    )
    written_on = forms.CharField(
        label=_("Date of signing written on the row"),
        max_length=40,
        required=False,
        help_text=_DATE_HELP,
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    birth_date = forms.CharField(label=_("Date of birth"), max_length=40, help_text=_DATE_HELP)
    address = forms.CharField(label=_("Address"), max_length=200)

    def __init__(
        self,
        *args: object,
        proposals: QuerySet[Proposal],
        collectors: QuerySet[Collector] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["proposal"].queryset = proposals  # type: ignore[attr-defined]
        collector_field = self.fields["collector"]
        collector_field.queryset = (  # type: ignore[attr-defined]
            collectors if collectors is not None else Collector.objects.none()
        )
        collector_field.label_from_instance = lambda c: f"{c.proposal.title} — {c}"  # type: ignore[attr-defined]

    def clean_written_on(self) -> date | None:
        text = self.cleaned_data["written_on"].strip()
        if not text:
            return None
        written = _parsed_date(text)
        if written > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future."), code="future")
        return written

    def clean_birth_date(self) -> date:
        born = _parsed_date(self.cleaned_data["birth_date"])
        if born > timezone.localdate():
            raise forms.ValidationError(_("The date of birth is in the future."), code="future")
        return born

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("channel") == SignatureChannel.PAPER and not data.get("sheet", "").strip():
            self.add_error("sheet", _("Enter the number of the paper sheet."))
        return data


class CollectorForm(forms.Form):
    name = forms.CharField(label=_("Collector's name"), max_length=100)
    address = forms.CharField(label=_("Collector's address"), max_length=200)


class BlackoutForm(forms.Form):
    starts_on = forms.CharField(label=_("First day"), max_length=40, help_text=_DATE_HELP)
    ends_on = forms.CharField(label=_("Last day (inclusive)"), max_length=40, help_text=_DATE_HELP)
    reason = forms.CharField(
        label=_("Election"), max_length=200, help_text=_("For example: 前橋市長選挙.")
    )

    def clean_starts_on(self) -> date:
        return _parsed_date(self.cleaned_data["starts_on"])

    def clean_ends_on(self) -> date:
        return _parsed_date(self.cleaned_data["ends_on"])


class SheetsForm(forms.Form):
    collector = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    sheets = forms.IntegerField(label=_("Number of sheets"), min_value=1, max_value=50, initial=5)
