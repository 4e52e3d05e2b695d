"""Forms of the debate pages. They validate input only; the services decide (and refuse)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from debates import phases
from identity.models import Municipality
from proposals.models import ProposalType

SORTS = [
    ("new", _("Newest")),
    ("discussed", _("Most discussed")),
    ("random", _("Shuffled (the same order for you each time)")),
]
_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class ContributionFilterForm(forms.Form):
    sort = forms.ChoiceField(label=_("Order"), required=False, choices=SORTS)
    category = forms.ChoiceField(label=_("Category"), required=False)

    def __init__(self, *args: Any, categories: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", _("All categories")),
            *((c, c) for c in categories),
        ]


class ContributionForm(forms.Form):
    title = forms.CharField(label=_("Title (optional)"), max_length=120, required=False)
    body = forms.CharField(
        label=_("Your idea or opinion"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    category = forms.CharField(
        label=_("Category (optional)"),
        max_length=40,
        required=False,
        help_text=_("For example: transport, childcare, parks."),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=4_000, widget=forms.Textarea(attrs={"rows": 3})
    )
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)


class ReactionForm(forms.Form):
    on = forms.BooleanField(required=False)


class ReasonForm(forms.Form):
    """A reason: for a report, for hiding content, for rejecting a statement."""

    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReportForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong with it?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A moderator reads every report. Your name is not shown to the author."),
    )


class VoteForm(forms.Form):
    choice = forms.ChoiceField(
        choices=[("agree", _("Agree")), ("disagree", _("Disagree")), ("pass", _("Pass"))]
    )


class StatementForm(forms.Form):
    text = forms.CharField(
        label=_("A short statement"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "One clear sentence others can agree or disagree with. A moderator checks new "
            "statements before others see them."
        ),
    )


class DebateForm(forms.Form):
    question = forms.CharField(label=_("Question"), max_length=200)
    background = forms.CharField(
        label=_("Background material"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("You can use Markdown: **bold**, lists with -, headings with ##."),
    )
    min_age = forms.IntegerField(
        label=_("Minimum age of participants"), min_value=0, max_value=130, initial=18
    )
    residence_required = forms.BooleanField(
        label=_("Only verified residents may take part"), required=False, initial=True
    )
    proposal_id = forms.IntegerField(
        label=_("Linked proposal number (optional)"), required=False, min_value=1
    )


class PhaseForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", "—"), *phases.CHOICES], required=False)
    starts_at = forms.DateTimeField(
        label=_("Starts at"), required=False, widget=_DATETIME, input_formats=_DATETIME_FORMATS
    )
    ends_at = forms.DateTimeField(
        label=_("Ends at"), required=False, widget=_DATETIME, input_formats=_DATETIME_FORMATS
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [data.get(name) for name in ("kind", "starts_at", "ends_at")]
        if any(given) and not all(given):
            raise forms.ValidationError(
                _("Fill in the kind, start and end of this phase, or leave the row empty.")
            )
        return data


class BasePhaseFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        if not self.filled():
            raise forms.ValidationError(_("Add at least one phase."))

    def filled(self) -> list[dict[str, Any]]:
        return [
            form.cleaned_data
            for form in self.forms
            if getattr(form, "cleaned_data", None) and form.cleaned_data.get("kind")
        ]


PhaseFormSet = forms.formset_factory(
    PhaseForm, formset=BasePhaseFormSet, extra=0, min_num=3, max_num=8, validate_max=True
)


class SummaryForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary of the debate"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("You can use Markdown: **bold**, lists with -, headings with ##."),
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What happens next: for example, a proposal to the council."),
    )


class MergeForm(forms.Form):
    """Merge a group of similar contributions into one statement."""

    text = forms.CharField(
        label=_("Statement"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Edit for brevity: one sentence people can agree or disagree with."),
    )
    contributions = forms.TypedMultipleChoiceField(
        label=_("Source contributions"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contributions"].choices = choices  # type: ignore[attr-defined]


class ProposalDraftForm(forms.Form):
    """Which kind of proposal a conclusion becomes (unused when the debate has a proposal)."""

    type = forms.ModelChoiceField(
        label=_("Proposal type"), queryset=ProposalType.objects.none(), required=False
    )

    def __init__(self, *args: Any, municipality: Municipality, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].queryset = ProposalType.objects.filter(  # type: ignore[attr-defined]
            municipality=municipality, is_active=True
        )
