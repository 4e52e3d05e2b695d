"""The eligibility function: Japanese age law, JST dates, expiry, revocation, residence, methods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from identity import services
from identity.eligibility import (
    REASONS,
    TOKYO,
    EligibilityRule,
    act_date,
    age_bracket,
    eligibility,
    legal_age,
)
from identity.keys import PersonFacts
from identity.models import EndReason, Municipality, Role, User, Verification, VerificationMethod
from tests.factories import UserFactory, staff

ADULT = EligibilityRule(min_age=18)


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2008, 11, 24), date(2026, 11, 23), 18),  # the day before the 18th birthday
        (date(2008, 11, 24), date(2026, 11, 22), 17),
        (date(2008, 11, 24), date(2026, 11, 24), 18),
        (date(2008, 2, 29), date(2026, 2, 28), 18),  # leap-day birth, common year
        (date(2008, 2, 29), date(2026, 2, 27), 17),
        (date(2008, 2, 29), date(2028, 2, 28), 20),  # leap year: still the 28th
        (date(2008, 3, 1), date(2026, 2, 28), 18),
        (date(2008, 3, 1), date(2026, 2, 27), 17),
        (date(2000, 1, 1), date(2017, 12, 31), 18),  # year boundary
        (date(2000, 1, 1), date(2017, 12, 30), 17),
    ],
)
def test_legal_age(birth: date, on: date, age: int) -> None:
    assert legal_age(birth, on) == age


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 110))
def test_legal_age_is_calendar_age_of_the_next_day(birth: date, years: int) -> None:
    on = birth + timedelta(days=int(years * 365.25))
    next_day = on + timedelta(days=1)
    expected = (
        next_day.year - birth.year - ((next_day.month, next_day.day) < (birth.month, birth.day))
    )
    assert legal_age(birth, on) == expected
    assert legal_age(birth, on + timedelta(days=1)) >= legal_age(birth, on)


def test_act_date_is_the_tokyo_calendar_date() -> None:
    assert act_date(datetime(2026, 11, 22, 14, 59, 59, tzinfo=UTC)) == date(2026, 11, 22)
    assert act_date(datetime(2026, 11, 22, 15, 0, 0, tzinfo=UTC)) == date(2026, 11, 23)


def test_age_brackets() -> None:
    assert [age_bracket(a) for a in (17, 18, 19, 20, 29, 45, 79, 80, 101)] == [
        "under_18",
        "18-19",
        "18-19",
        "20-29",
        "20-29",
        "40-49",
        "70-79",
        "80+",
        "80+",
    ]


def _verify(
    user: User, municipality: Municipality, birth: date, *, at: datetime | None = None
) -> Verification:
    clerk = staff(municipality, Role.COUNTER_CLERK)
    if at is not None:
        from unittest import mock

        with mock.patch("django.utils.timezone.now", return_value=at):
            return services.verification_by_counter(
                actor=clerk,
                municipality=municipality,
                user=user,
                person=PersonFacts(f"住民 {user.pk}", birth, "大手町2-12-1"),
                document_type="my_number_card",
            )
    return services.verification_by_counter(
        actor=clerk,
        municipality=municipality,
        user=user,
        person=PersonFacts(f"住民 {user.pk}", birth, "大手町2-12-1"),
        document_type="my_number_card",
    )


@pytest.mark.django_db
class TestEligibility:
    def test_not_signed_in(self, maebashi: Municipality) -> None:
        assert eligibility(AnonymousUser(), maebashi, timezone.now(), ADULT).code == "not_signed_in"

    def test_not_verified(self, maebashi: Municipality, resident: User) -> None:
        assert eligibility(resident, maebashi, timezone.now(), ADULT).code == "not_verified"

    def test_eighteenth_birthday_eve_at_jst_midnight(
        self, maebashi: Municipality, resident: User
    ) -> None:
        _verify(resident, maebashi, date(2008, 11, 24), at=jst(2026, 1, 5, 10))
        before = jst(2026, 11, 22, 23, 59, 59)
        start = jst(2026, 11, 23, 0, 0, 0)
        assert eligibility(resident, maebashi, before, ADULT).code == "under_age"
        result = eligibility(resident, maebashi, start, ADULT)
        assert result.allowed and result.code == "eligible"
        assert result.age_bracket == "18-19" and result.method == VerificationMethod.COUNTER
        # The same instants in UTC: 14:59:59 and 15:00:00 the day before.
        assert eligibility(resident, maebashi, before.astimezone(UTC), ADULT).code == "under_age"
        assert eligibility(resident, maebashi, start.astimezone(UTC), ADULT).allowed

    def test_leap_day_birth(self, maebashi: Municipality, resident: User) -> None:
        _verify(resident, maebashi, date(2008, 2, 29), at=jst(2025, 6, 1, 10))
        assert eligibility(resident, maebashi, jst(2026, 2, 27, 12), ADULT).code == "under_age"
        assert eligibility(resident, maebashi, jst(2026, 2, 28, 0), ADULT).allowed

    def test_resident_of_the_other_municipality(
        self, maebashi: Municipality, kamakura: Municipality, resident: User
    ) -> None:
        _verify(resident, kamakura, date(1980, 5, 5))
        assert eligibility(resident, maebashi, timezone.now(), ADULT).code == "not_resident"
        assert eligibility(resident, kamakura, timezone.now(), ADULT).allowed
        anywhere = EligibilityRule(min_age=18, residence_required=False)
        assert eligibility(resident, maebashi, timezone.now(), anywhere).allowed

    def test_expiry_at_the_exact_moment(self, maebashi: Municipality, resident: User) -> None:
        verification = _verify(resident, maebashi, date(1980, 5, 5))
        expires = verification.expires_at
        assert eligibility(resident, maebashi, expires - timedelta(microseconds=1), ADULT).allowed
        assert eligibility(resident, maebashi, expires, ADULT).code == "verification_expired"

    def test_revoked_and_moved_out(self, maebashi: Municipality, resident: User) -> None:
        verification = _verify(resident, maebashi, date(1980, 5, 5))
        clerk = staff(maebashi, Role.COUNTER_CLERK)
        before = timezone.now()
        services.verification_revoke(
            actor=clerk,
            municipality=maebashi,
            verification_id=verification.pk,
            reason=EndReason.ERROR,
        )
        assert eligibility(resident, maebashi, timezone.now(), ADULT).code == "verification_revoked"
        # An act before the revocation was made while the verification was in force.
        assert eligibility(resident, maebashi, before, ADULT).allowed
        other = UserFactory()
        moved = _verify(other, maebashi, date(1970, 1, 1))
        services.verification_revoke(
            actor=clerk, municipality=maebashi, verification_id=moved.pk, reason=EndReason.MOVED_OUT
        )
        assert eligibility(other, maebashi, timezone.now(), ADULT).code == "not_resident"

    def test_method_not_accepted(self, maebashi: Municipality, resident: User) -> None:
        _verify(resident, maebashi, date(1980, 5, 5))
        rule = EligibilityRule(methods={VerificationMethod.OIDC})
        assert eligibility(resident, maebashi, timezone.now(), rule).code == "method_not_accepted"

    def test_register_reference_date(self, maebashi: Municipality, resident: User) -> None:
        _verify(resident, maebashi, date(1980, 5, 5), at=jst(2026, 3, 1, 9))
        on_register = EligibilityRule(register_date=date(2026, 3, 1))
        too_early = EligibilityRule(register_date=date(2026, 2, 28))
        assert eligibility(resident, maebashi, timezone.now(), on_register).allowed
        assert eligibility(resident, maebashi, timezone.now(), too_early).code == "not_resident"

    def test_renewal_keeps_history_and_stays_eligible(
        self, maebashi: Municipality, resident: User
    ) -> None:
        first = _verify(resident, maebashi, date(1980, 5, 5))
        second = _verify(resident, maebashi, date(1980, 5, 5))
        first.refresh_from_db()
        assert first.end_reason == EndReason.RENEWED and second.renews_id == first.pk
        result = eligibility(resident, maebashi, timezone.now(), ADULT)
        assert result.allowed and result.verification_id == second.pk


def test_every_reason_explains_what_to_do_in_both_languages() -> None:
    from django.utils import translation

    for code, message in REASONS.items():
        with translation.override("en"):
            english = str(message)
        with translation.override("ja"):
            japanese = str(message)
        assert english and japanese and english != japanese, code
