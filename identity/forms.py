from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from identity.models import Role


class ProfileForm(forms.Form):
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        required=False,
        help_text=_("Shown beside what you write. Leave empty to appear as “Resident #number”."),
    )


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Enter your password again to confirm that it is you."),
    )
    confirm = forms.BooleanField(
        label=_("I understand that my account and my personal data will be deleted for good."),
    )


class RoleGrantForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address of the account"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), required=False, max_length=64)
    actor_email = forms.EmailField(label=_("Actor's e-mail"), required=False)
    target_type = forms.CharField(label=_("Target type"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("“From” must not be after “To”."))
        return data


class MunicipalitySettingsForm(forms.Form):
    verification_valid_days = forms.IntegerField(
        label=_("A resident verification stays valid for (days)"),
        min_value=30,
        max_value=3650,
        help_text=_(
            "After this many days residents renew their verification. Usually 1,095 (3 years)."
        ),
    )
