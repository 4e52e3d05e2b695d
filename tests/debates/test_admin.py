"""The debates admin is read-only and its pages load."""

from __future__ import annotations

import pytest
from django.test import Client

from debates.models import Debate
from identity.models import Role
from tests.factories import (
    DebateFactory,
    MunicipalityFactory,
    UserFactory,
    enable_totp,
    staff,
)

pytestmark = pytest.mark.django_db


def test_admin_pages_load_and_refuse_changes() -> None:
    town = MunicipalityFactory()
    debate = DebateFactory(
        municipality=town, created_by=staff(town, Role.MODERATOR), phases=("diverge", "converge")
    )
    operator = UserFactory(is_superuser=True, is_staff=True)
    enable_totp(operator)  # the admin wants two-step verification
    client = Client()
    client.force_login(operator)
    for model in (
        "debate",
        "contribution",
        "comment",
        "statement",
        "report",
        "opinionsnapshot",
        "conclusion",
    ):
        assert client.get(f"/django-admin/debates/{model}/").status_code == 200, model
    page = client.get(f"/django-admin/debates/debate/{debate.pk}/change/")
    assert page.status_code == 200 and "diverge" in page.content.decode()
    assert client.get("/django-admin/debates/debate/add/").status_code == 403
    client.post(f"/django-admin/debates/debate/{debate.pk}/change/", {"question": "変更"})
    assert Debate.objects.get().question == debate.question
