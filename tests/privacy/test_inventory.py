"""docs/privacy.md, identity/privacy.py and the models agree: no personal field goes unlisted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

from identity.privacy import APPS, FIELD_PATTERN, NOT_PERSONAL, PERSONAL_FIELDS, ROLES

DOC = Path(settings.BASE_DIR) / "docs" / "privacy.md"
_ROW = re.compile(r"^\| ([a-z_]+\.[A-Za-z]+\.[a-z_]+) \|(.*)\|\s*$")


def doc_rows() -> dict[str, frozenset[str]]:
    """model.field → the roles named in its row (the fourth column)."""
    rows: dict[str, frozenset[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")]
            assert len(cells) == 5, f"{match.group(1)}: a row has six columns"
            rows[match.group(1)] = frozenset(r.strip() for r in cells[2].split(","))
    return rows


def looks_personal() -> set[str]:
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    found = set()
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        for field in model._meta.concrete_fields:
            refers_to_person = field.is_relation and field.related_model is user_model
            if refers_to_person or FIELD_PATTERN.search(field.name):
                found.add(f"{model._meta.app_label}.{model.__name__}.{field.name}")
    return found


def test_every_field_that_looks_personal_is_classified() -> None:
    unlisted = looks_personal() - set(PERSONAL_FIELDS) - set(NOT_PERSONAL)
    assert not unlisted, f"add these to identity/privacy.py and docs/privacy.md: {sorted(unlisted)}"


def test_every_listed_field_exists() -> None:
    existing = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            existing.add(f"{model._meta.app_label}.{model.__name__}.{field.name}")
    assert not (set(PERSONAL_FIELDS) | set(NOT_PERSONAL)) - existing


def test_the_document_has_a_row_for_each_personal_field_with_the_same_roles() -> None:
    rows = doc_rows()
    assert set(rows) == set(PERSONAL_FIELDS)
    for name, roles in PERSONAL_FIELDS.items():
        assert rows[name] == roles, name
        assert roles <= ROLES, name


@pytest.mark.parametrize("name", ["identity.Verification.legal_name", "proposals.Signature.user"])
def test_the_check_would_catch_a_missing_row(name: str) -> None:
    """The rule is not vacuous: the fields the test finds include the obvious ones."""
    assert name in looks_personal()
