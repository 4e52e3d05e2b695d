"""Forms of the election pages. They validate shapes only; the services check the rules again."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from identity.models import VerificationMethod
from voting.services.elections import ElectionValues, QuestionValues

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # a factors file for 20 questions × 20 options is ~300 kB


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class ElectionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    explanation = forms.CharField(
        label=_("Explanation for voters"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What the vote is about and what the result will be used for."),
    )
    opens_at = forms.DateTimeField(
        label=_("Voting opens at"),
        widget=DateTimeLocalInput(),
        input_formats=DATETIME_FORMATS,
        help_text=_("Japan time, e.g. 2026-12-01 09:00."),
    )
    closes_at = forms.DateTimeField(
        label=_("Voting closes at"),
        widget=DateTimeLocalInput(),
        input_formats=DATETIME_FORMATS,
        help_text=_("Japan time. The office may also close voting early."),
    )
    min_age = forms.IntegerField(
        label=_("Minimum age on polling day"),
        min_value=0,
        max_value=150,
        initial=18,
        help_text=_("Judged on the day voting closes."),
    )
    register_date = forms.DateField(
        label=_("Resident on (register date)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only people resident since this date may vote. Leave empty for no date."),
    )
    methods = forms.MultipleChoiceField(
        label=_("Accepted verification methods"),
        choices=VerificationMethod.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(VerificationMethod.values),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("Voting must close after it opens."))
        return data

    def values(self) -> ElectionValues:
        data = self.cleaned_data
        return ElectionValues(
            title=data["title"],
            explanation=data["explanation"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            min_age=data["min_age"],
            register_date=data["register_date"],
            methods=list(data["methods"]),
        )


class QuestionKind:
    YES_NO = "yes_no"
    LIST = "list"


class QuestionForm(forms.Form):
    """One question. A yes/no question needs only its text; a list question one option a line."""

    text = forms.CharField(
        label=_("Question"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    kind = forms.ChoiceField(
        label=_("Kind of question"),
        choices=[
            (QuestionKind.YES_NO, _("Yes or no (choose exactly one)")),
            (QuestionKind.LIST, _("Choose from a list")),
        ],
        widget=forms.RadioSelect,
        initial=QuestionKind.YES_NO,
        required=False,
    )
    options = forms.CharField(
        label=_("Options (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("For a list question only."),
    )
    min_selections = forms.IntegerField(
        label=_("At least this many choices"), min_value=0, max_value=50, initial=0, required=False
    )
    max_selections = forms.IntegerField(
        label=_("At most this many choices"), min_value=1, max_value=50, initial=1, required=False
    )

    def is_blank(self) -> bool:
        return not (self.cleaned_data.get("text") or "").strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("text") or "").strip():
            return data  # an empty slot: ignored
        if data.get("kind") == QuestionKind.LIST:
            options = [line.strip() for line in (data.get("options") or "").splitlines()]
            options = [o for o in options if o]
            if len(options) < 2:
                self.add_error("options", _("Give at least two options, one per line."))
            lo = data.get("min_selections")
            hi = data.get("max_selections")
            if lo is None:
                self.add_error("min_selections", _("Enter a number."))
            if hi is None:
                self.add_error("max_selections", _("Enter a number."))
            if lo is not None and hi is not None and lo > hi:
                self.add_error("max_selections", _("Must not be less than the minimum."))
            if hi is not None and len(options) >= 2 and hi > len(options):
                self.add_error("max_selections", _("Must not be more than the number of options."))
            data["option_list"] = options
        return data

    def values(self) -> QuestionValues:
        data = self.cleaned_data
        if data.get("kind") == QuestionKind.LIST:
            return QuestionValues(
                data["text"].strip(),
                data["option_list"],
                data["min_selections"],
                data["max_selections"],
            )
        return QuestionValues.yes_no(data["text"].strip())

    @staticmethod
    def initial_of(question: Any) -> dict[str, Any]:
        options = [o["text"] for o in question.options]
        yes_no = [o["id"] for o in question.options] == ["yes", "no"]
        return {
            "text": question.text,
            "kind": QuestionKind.YES_NO if yes_no else QuestionKind.LIST,
            "options": "" if yes_no else "\n".join(options),
            "min_selections": question.min_selections,
            "max_selections": question.max_selections,
        }


QuestionFormSet = forms.formset_factory(QuestionForm, extra=0, max_num=20, absolute_max=20)


class TrusteeAppointForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address of the trustee's account"),
        help_text=_("The person must already have an account on this site."),
    )


def _json_upload(text: str, file: Any) -> Any:
    """The JSON pasted or uploaded, whichever was given (the file wins)."""
    if file is not None:
        if file.size > MAX_UPLOAD_BYTES:
            raise ValidationError(_("The file is too large."), code="too_large")
        raw = file.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("The file is not UTF-8 text."), code="encoding") from None
    if not text.strip():
        raise ValidationError(_("Paste the JSON or choose the file."), code="required")
    if len(text) > MAX_UPLOAD_BYTES:
        raise ValidationError(_("The text is too long."), code="too_large")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(
            _("This is not valid JSON (line %(line)s, column %(column)s)."),
            code="json",
            params={"line": error.lineno, "column": error.colno},
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(_("The JSON must be an object ({…})."), code="json")
    return data


class JsonUploadForm(forms.Form):
    """A JSON object pasted into the text area or uploaded as a file."""

    text = forms.CharField(
        label=_("Paste the JSON"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
        strip=False,
    )
    file = forms.FileField(label=_("…or choose the file"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            data["json"] = _json_upload(data.get("text") or "", data.get("file"))
        except ValidationError as error:
            self.add_error(None, error)
        return data


class TrackerSearchForm(forms.Form):
    tracker = forms.CharField(
        label=_("Ballot tracker"),
        required=False,
        max_length=100,
        help_text=_(
            "The whole tracker or its beginning (at least 6 characters); spaces are ignored."
        ),
    )

    def clean_tracker(self) -> str:
        value = "".join((self.cleaned_data.get("tracker") or "").split()).lower()
        if value and (len(value) < 6 or any(c not in "0123456789abcdef" for c in value)):
            raise ValidationError(
                _("A tracker has only the digits 0–9 and letters a–f; give at least 6 of them.")
            )
        return value
