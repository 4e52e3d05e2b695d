"""The one way a page form reaches a service: a valid form's data goes to the service, and a
refusal becomes an error on the form, so the page is shown again with nothing changed. A button
without fields (`button_submit`) says the outcome as a message on the page it redirects to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from identity.errors import DomainError, InvalidFields

T = TypeVar("T")


@dataclass(frozen=True)
class Submitted(Generic[T]):
    """The service's answer; a wrapper so that a service returning None still counts as done."""

    value: T


def form_submit(
    form: forms.BaseForm,
    perform: Callable[[dict[str, Any]], T],
    *,
    error_field: str | None = None,
) -> Submitted[T] | None:
    """None when the form is unbound or invalid or the service refused (the form then says why:
    beside `error_field` when the refusal is about that one field, else above the form)."""
    if not form.is_valid():
        return None
    try:
        value = perform(form.cleaned_data)
    except InvalidFields as error:
        for field, problems in error.errors.items():
            for problem in problems:
                form.add_error(field if field in form.fields else None, str(problem))
        return None
    except DomainError as error:
        form.add_error(error_field, str(error.message))
        return None
    return Submitted(value)


def form_status(form: forms.BaseForm) -> int:
    """422 for a page shown again because its form was refused, else 200."""
    return 422 if form.is_bound and form.errors else 200


def button_submit(
    request: HttpRequest,
    perform: Callable[[], T],
    success: str | Callable[[T], str],
) -> Submitted[T] | None:
    """Call the service behind a button; its refusal, or `success` (a text, or one made from the
    service's answer), becomes the message shown after the redirect. None when refused."""
    try:
        value = perform()
    except DomainError as error:
        messages.error(request, str(error.message))
        return None
    messages.success(request, success if isinstance(success, str) else success(value))
    return Submitted(value)
