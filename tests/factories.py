from __future__ import annotations

from importlib import import_module
from typing import Any

import factory
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction

from identity import services
from identity.models import Municipality, RoleAssignment, User
from identity.totp import totp_activate

PASSWORD = "correct-horse-battery"


class MunicipalityFactory(factory.django.DjangoModelFactory[Municipality]):
    class Meta:
        model = Municipality
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"town{n}")
    name = factory.Sequence(lambda n: f"町{n}")
    name_en = factory.Sequence(lambda n: f"Town {n}")
    code = factory.Sequence(lambda n: f"{900000 + n:06d}")


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.jp")
    display_name = factory.Sequence(lambda n: f"住民{n}")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: Any) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


def grant(user: User, municipality: Municipality, role: str) -> RoleAssignment:
    return services.role_grant(actor=None, municipality=municipality, email=user.email, role=role)


def enable_totp(user: User) -> str:
    """Give `user` a TOTP authenticator (as allauth's activation would) and return its secret."""
    with transaction.atomic():
        return totp_activate(user)


def staff(municipality: Municipality, role: str, *, mfa: bool = True, **kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    grant(user, municipality, role)
    if mfa:
        enable_totp(user)
    return user


def session_token(user: User) -> str:
    """A signed-in session whose key an API client sends as `X-Session-Token` (what allauth's
    headless login would hand out), without going through the login."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)
