"""Resident register import (parser, service, staff page) and the resident's register match."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django import DjangoAssertNumQueries

from identity import services
from identity.dates import ERA_STARTS, ERAS
from identity.errors import InvalidInput, PermissionDenied
from identity.keys import PersonFacts, identity_hash, person_hash
from identity.models import (
    AuditEntry,
    EndReason,
    Municipality,
    RegisterEntry,
    ResidentRegister,
    Role,
    User,
    Verification,
    VerificationMethod,
)
from identity.register import parse_register, read_records
from identity.views.register import MATCH_ATTEMPTS_PER_HOUR
from tests.concurrency import run_concurrently
from tests.factories import (
    HANAKO,
    JIRO,
    SABURO,
    TARO,
    MunicipalityFactory,
    UserFactory,
    register_csv,
    staff,
)

REFERENCE = date(2025, 4, 1)


def facts(row: Sequence[str]) -> PersonFacts:
    from identity.dates import parse_date

    return PersonFacts(row[1], parse_date(row[2]), row[3])


def client_for(user: User) -> Client:
    # The assertions below read English messages; Japanese is the default.
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def state() -> tuple[object, ...]:
    """Everything an import may change, to compare before and after."""
    return (
        list(ResidentRegister.objects.order_by("pk").values_list("pk", "is_current", "row_count")),
        RegisterEntry.objects.count(),
        list(Verification.objects.order_by("pk").values_list("pk", "ended_at", "end_reason")),
        AuditEntry.objects.count(),
    )


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def office(maebashi: Municipality) -> User:
    return staff(maebashi, Role.ELECTION_OFFICE, email="senkan@maebashi.example.jp")


def do_import(
    actor: User, municipality: Municipality, data: bytes, *, dry_run: bool = False
) -> services.ImportReport:
    return services.register_import(
        actor=actor,
        municipality=municipality,
        data=data,
        reference_date=REFERENCE,
        dry_run=dry_run,
    )


# --- the parser ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_every_accepted_encoding_gives_the_same_hashes(encoding: str) -> None:
    reference = parse_register(register_csv([TARO, HANAKO]), municipality_name="前橋市")
    parsed = parse_register(
        register_csv([TARO, HANAKO], encoding=encoding), municipality_name="前橋市"
    )
    assert parsed.ok, parsed.errors
    assert parsed.encoding == encoding
    assert parsed.rows == reference.rows
    assert parsed.rows[0].key_hash == identity_hash("register", TARO[0])
    assert parsed.rows[0].person_hash == person_hash(facts(TARO), "前橋市")
    assert parsed.rows[0].resident_since == date(2001, 5, 1)
    assert parsed.rows[1].resident_since is None


def test_full_width_digits_and_both_date_styles_are_the_same_person() -> None:
    western = parse_register(register_csv([TARO]), municipality_name="前橋市")
    written = (
        TARO[0].translate(_FULL),
        "山田　太郎",
        "平成２年４月１日",
        "前橋市大手町２丁目１２番１号",
        "Ｈ１３．５．１",
    )
    japanese = parse_register(register_csv([written], encoding="cp932"), municipality_name="前橋市")
    assert japanese.ok, japanese.errors
    assert japanese.rows[0].key_hash == western.rows[0].key_hash
    assert japanese.rows[0].person_hash == western.rows[0].person_hash
    assert japanese.rows[0].resident_since == date(2001, 5, 1)


def test_english_headers_in_any_order_and_without_the_optional_column() -> None:
    parsed = parse_register(
        register_csv(
            [(TARO[3], TARO[1], TARO[0], TARO[2])],
            header=("Address", "NAME", "resident key", "birth_date"),
        ),
        municipality_name="前橋市",
    )
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].person_hash == person_hash(facts(TARO), "前橋市")


BAD_ROWS = [
    TARO,  # line 2: good
    ("10000000009", "", "1990-01-01", "前橋市1-1", ""),  # 3: missing name
    ("10000000010", "木村 一", "1990-02-30", "前橋市1-2", ""),  # 4: not a real date
    ("10000000011", "木村 二", "平成45年1月1日", "前橋市1-3", ""),  # 5: era ended before that
    (TARO[0], "木村 三", "1990-01-01", "前橋市1-4", ""),  # 6: duplicate key of line 2
    ("10000000012", "山田太郎", "H2.4.1", "前橋市大手町2-12-1", ""),  # 7: duplicate person of 2
    ("10000000013", "長" * 101, "1990-01-01", "前橋市1-5", ""),  # 8: name too long
    ("10000000014", "木村 四", "1990-01-01", "前" * 201, ""),  # 9: address too long
    ("10000000015", "木村 五", "1990-01-01", "前橋市1-6", "", "extra"),  # 10: too many fields
    ("1" * 33, "木村 六", "1990-01-01", "前橋市1-7", ""),  # 11: key too long
    ("10000000016", "木村 七", "2030-01-01", "前橋市1-8", ""),  # 12: born after reference date
    ("10000000017", "木村\n八", "1990-01-01", "前橋市1-9", ""),  # 13-14: line break in a name
    ("", "木村 九", "", "前橋市1-10", "昭和"),  # 15: missing key, missing birth date, bad date
    HANAKO,  # 16: good
]
EXPECTED_ERRORS = {
    (3, "missing_field"),
    (4, "bad_date"),
    (5, "bad_date"),
    (6, "duplicate_key"),
    (7, "duplicate_person"),
    (8, "too_long"),
    (9, "too_long"),
    (10, "too_many_fields"),
    (11, "too_long"),
    (12, "date_order"),
    (13, "control_character"),
    (15, "missing_field"),
    (15, "bad_date"),
}


def test_every_bad_row_is_reported_by_line_number() -> None:
    with translation.override("en"):
        parsed = parse_register(
            register_csv(BAD_ROWS), municipality_name="前橋市", reference_date=REFERENCE
        )
    assert {(error.line, error.code) for error in parsed.errors} == EXPECTED_ERRORS
    assert [error.column for error in parsed.errors if error.line == 15] == [
        "resident_key",
        "birth_date",
        "resident_since",
    ]
    with translation.override("en"):
        assert "line 2" in str(next(e.message for e in parsed.errors if e.code == "duplicate_key"))
    assert parsed.bad_lines == 12


@pytest.mark.parametrize(
    ("data", "code", "line"),
    [
        (b"", "empty", 1),
        ("名前,生年月日,住所\n".encode(), "unknown_header", 1),
        ("氏名,生年月日,住所\n".encode(), "missing_header", 1),
        ("住民票コード,氏名,氏名,生年月日,住所\n".encode(), "duplicate_header", 1),
        (register_csv([TARO], encoding="utf-16"), "encoding", 1),
        (b"PK\x03\x04rest of a workbook", "not_csv", 1),
        (
            register_csv([TARO, HANAKO]) + b"10000000005,\xff\xfe\xfd,1990-01-01,x\r\n",
            "encoding",
            4,
        ),
        (register_csv([TARO]) + '1,"山田"x,1990-01-01,y\r\n'.encode(), "not_csv", 3),
    ],
)
def test_a_file_that_cannot_be_read_says_why(data: bytes, code: str, line: int) -> None:
    parsed = parse_register(data, municipality_name="前橋市")
    assert not parsed.ok
    assert (parsed.errors[0].line, parsed.errors[0].code) == (line, code), parsed.errors
    assert parsed.rows == [] or code == "not_csv"


def test_blank_lines_are_skipped_and_line_numbers_stay_physical() -> None:
    data = register_csv([TARO]) + b"\r\n,,,,\r\n" + b"1,,1990-01-01,x,\r\n"
    parsed = parse_register(data, municipality_name="前橋市")
    assert [(e.line, e.code) for e in parsed.errors] == [(5, "missing_field")]


# --- property tests -----------------------------------------------------------------------------

KANJI = "山田太郎花子鈴木佐藤高橋前橋市大手町本丁目番地号千代田朝日"
KANA = "あいうえおかきくけこアイウエオカキクケコー"
_FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def era_text(day: date) -> str:
    name = max((n for n, start in ERA_STARTS.items() if start <= day), key=ERA_STARTS.__getitem__)
    year = day.year - ERAS[name] + 1
    return f"{name}{'元' if year == 1 else year}年{day.month}月{day.day}日"


people = st.lists(
    st.tuples(
        st.text("0123456789", min_size=1, max_size=12),
        st.text(KANJI + KANA, min_size=1, max_size=10),
        st.dates(date(1900, 1, 1), REFERENCE),
        st.text(KANJI + KANA + '0123456789-, "', min_size=1, max_size=30).filter(str.strip),
    ),
    min_size=1,
    max_size=15,
    unique_by=(lambda p: p[0], lambda p: (p[1], p[2], p[3])),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    rows=people,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp932"]),
    era=st.booleans(),
    full_width=st.booleans(),
)
def test_generated_rows_round_trip(
    rows: list[tuple[str, str, date, str]], encoding: str, era: bool, full_width: bool
) -> None:
    written = []
    for key, name, birth, address in rows:
        day = era_text(birth) if era else birth.isoformat()
        if full_width:
            key, day = key.translate(_FULL), day.translate(_FULL)
        written.append((key, name, day, address, ""))
    data = register_csv(written, encoding=encoding)
    records = list(read_records(data.decode(encoding)))
    parsed = parse_register(data, municipality_name="前橋市", reference_date=REFERENCE)
    municipality = "前橋市"
    unique_persons = len({person_hash(PersonFacts(n, b, a), municipality) for _, n, b, a in rows})
    unique_keys = len({identity_hash("register", k.lstrip()) for k, *_ in rows})
    if unique_persons < len(rows) or unique_keys < len(rows):
        # Different spellings that normalise to one person (spaces, digits) are duplicates.
        assert {e.code for e in parsed.errors} <= {"duplicate_person", "duplicate_key"}
        return
    assert parsed.ok, parsed.errors
    assert [r.birth_date for r in records] == [b for _, _, b, _ in rows]
    assert [r.address for r in records] == [a.strip() for *_, a in rows]
    assert [(r.key_hash, r.person_hash) for r in parsed.rows] == [
        (identity_hash("register", key), person_hash(PersonFacts(n, b, a), municipality))
        for key, n, b, a in rows
    ]


# --- the service --------------------------------------------------------------------------------


def test_import_stores_hashes_and_audits(maebashi: Municipality, office: User) -> None:
    report = do_import(office, maebashi, register_csv([TARO, HANAKO], encoding="cp932"))
    assert report.ok and report.applied and report.rows == 2
    register = ResidentRegister.objects.get(municipality=maebashi, is_current=True)
    assert (register.row_count, register.reference_date, register.imported_by) == (
        2,
        REFERENCE,
        office,
    )
    assert set(register.entries.values_list("key_hash", flat=True)) == {
        identity_hash("register", TARO[0]),
        identity_hash("register", HANAKO[0]),
    }
    entry = AuditEntry.objects.get(action="register.import")
    assert entry.actor == office and entry.target_id == str(register.pk)
    assert entry.data["rows"] == 2 and entry.data["reference_date"] == "2025-04-01"


@pytest.mark.parametrize("dry_run", [True, False])
def test_bad_rows_change_nothing(
    maebashi: Municipality, office: User, resident: User, dry_run: bool
) -> None:
    do_import(office, maebashi, register_csv([TARO, HANAKO]))
    services.verification_by_register(user=resident, municipality=maebashi, person=facts(TARO))
    before = state()
    report = do_import(office, maebashi, register_csv(BAD_ROWS), dry_run=dry_run)
    assert not report.ok and not report.applied
    assert {(error.line, error.code) for error in report.errors} == EXPECTED_ERRORS
    assert state() == before


def test_dry_run_reports_and_changes_nothing(
    maebashi: Municipality, office: User, resident: User
) -> None:
    do_import(office, maebashi, register_csv([TARO, HANAKO]))
    services.verification_by_register(user=resident, municipality=maebashi, person=facts(TARO))
    other = UserFactory()
    services.verification_by_register(user=other, municipality=maebashi, person=facts(HANAKO))
    before = state()
    report = do_import(office, maebashi, register_csv([TARO, JIRO, SABURO]), dry_run=True)
    assert report.ok and not report.applied
    assert (report.rows, report.kept, report.moved_out) == (3, 1, 1)
    assert state() == before


def test_reimport_keeps_people_still_there_and_ends_the_others(
    maebashi: Municipality, office: User, resident: User
) -> None:
    do_import(office, maebashi, register_csv([TARO, HANAKO, JIRO]))
    first = ResidentRegister.objects.get(is_current=True)
    taro = services.verification_by_register(
        user=resident, municipality=maebashi, person=facts(TARO)
    )
    hanako = services.verification_by_register(
        user=UserFactory(), municipality=maebashi, person=facts(HANAKO)
    )
    # A verification by another method is none of the register's business.
    counter_staff = staff(maebashi, Role.COUNTER_CLERK)
    at_counter = services.verification_by_counter(
        actor=counter_staff,
        municipality=maebashi,
        user=UserFactory(),
        person=PersonFacts("伊藤 四郎", date(1970, 1, 1), "前橋市1-1"),
        document_type="passport",
    )
    # Taro moved within the city (same key, new address); Hanako moved away; Saburo moved in.
    moved_taro = (TARO[0], TARO[1], TARO[2], "前橋市本町3-3", TARO[4])
    report = do_import(office, maebashi, register_csv([moved_taro, JIRO, SABURO], encoding="cp932"))
    assert (report.rows, report.kept, report.moved_out) == (3, 1, 1)
    assert report.previous == first
    taro.refresh_from_db()
    hanako.refresh_from_db()
    at_counter.refresh_from_db()
    assert taro.ended_at is None and at_counter.ended_at is None
    assert hanako.end_reason == EndReason.MOVED_OUT and hanako.ended_by == office
    first.refresh_from_db()
    assert not first.is_current and not first.entries.exists()
    assert ResidentRegister.objects.filter(municipality=maebashi, is_current=True).count() == 1
    assert RegisterEntry.objects.count() == 3
    summary = AuditEntry.objects.get(action="verification.register_moved_out")
    assert summary.data["count"] == 1 and summary.data["verifications"] == [hanako.pk]
    assert AuditEntry.objects.filter(action="register.import").count() == 2


def test_the_plain_register_is_stored_nowhere(maebashi: Municipality, office: User) -> None:
    do_import(office, maebashi, register_csv([TARO, HANAKO]))
    do_import(office, maebashi, register_csv([HANAKO, SABURO]), dry_run=True)
    secrets = ["山田", "太郎", "大手町", "鈴木", "花子", "本町", TARO[0], HANAKO[0], "1990-04-01"]
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                text = " ".join(str(cell) for cell in row)
                found += [(table, secret) for secret in secrets if secret in text]
    assert found == []


def test_permission(maebashi: Municipality, kamakura: Municipality, resident: User) -> None:
    kamakura_admin = staff(kamakura, Role.ADMINISTRATOR)
    clerk = staff(maebashi, Role.COUNTER_CLERK)
    for actor in (resident, kamakura_admin, clerk):
        with pytest.raises(PermissionDenied):
            do_import(actor, maebashi, register_csv([TARO]))
    assert not ResidentRegister.objects.exists()
    admin = staff(maebashi, Role.ADMINISTRATOR, mfa=False)
    with pytest.raises(PermissionDenied) as refused:
        do_import(admin, maebashi, register_csv([TARO]))
    assert refused.value.code == "mfa_required"


def test_reference_date_in_the_future_is_refused(maebashi: Municipality, office: User) -> None:
    with pytest.raises(InvalidInput):
        services.register_import(
            actor=office,
            municipality=maebashi,
            data=register_csv([TARO]),
            reference_date=date.today() + timedelta(days=2),  # noqa: DTZ011
            dry_run=True,
        )


# --- the staff page -----------------------------------------------------------------------------

URL = "/m/maebashi/staff/register/"


def upload(client: Client, data: bytes, *, dry_run: bool) -> HttpResponse:
    form: dict[str, object] = {
        "file": SimpleUploadedFile("register.csv", data, content_type="text/csv"),
        "reference_date": REFERENCE.isoformat(),
    }
    if dry_run:
        form["dry_run"] = "on"
    response: HttpResponse = client.post(URL, form)
    return response


def test_staff_page_dry_run_then_import(maebashi: Municipality, office: User) -> None:
    client = client_for(office)
    page = client.get(URL)
    assert page.status_code == 200
    assert 'name="dry_run"' in page.content.decode() and "checked" in page.content.decode()
    response = upload(client, register_csv([TARO, HANAKO], encoding="cp932"), dry_run=True)
    assert response.status_code == 200
    assert response.context["report"].rows == 2
    assert not ResidentRegister.objects.exists()
    response = upload(client, register_csv([TARO, HANAKO], encoding="cp932"), dry_run=False)
    assert response.status_code == 302
    body = client.get(URL).content.decode()
    assert "2025-04-01" in body and office.email in body
    assert ResidentRegister.objects.get().row_count == 2


def test_staff_page_lists_bad_rows_by_line(maebashi: Municipality, office: User) -> None:
    response = upload(client_for(office), register_csv(BAD_ROWS), dry_run=False)
    assert response.status_code == 422
    body = response.content.decode()
    assert '<th scope="row">15</th>' in body and 'data-code="duplicate_person"' in body
    assert not ResidentRegister.objects.exists()


def test_staff_page_shows_the_first_200_bad_rows(maebashi: Municipality, office: User) -> None:
    rows = [(str(i), f"名{i}", "not a date", "前橋市", "") for i in range(250)]
    response = upload(client_for(office), register_csv(rows), dry_run=True)
    assert response.status_code == 422
    assert len(response.context["bad_rows"]) == 200
    assert response.context["more_bad_rows"] == 50
    assert "50 more lines" in response.content.decode()


def test_staff_page_refuses_residents_and_other_municipalities(
    maebashi: Municipality, kamakura: Municipality, resident: User
) -> None:
    assert client_for(resident).get(URL).status_code == 403
    assert client_for(staff(kamakura, Role.ADMINISTRATOR)).get(URL).status_code == 403
    response = upload(client_for(resident), register_csv([TARO]), dry_run=False)
    assert response.status_code == 403
    assert not ResidentRegister.objects.exists()


def test_staff_page_queries(
    maebashi: Municipality, office: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client = client_for(office)
    do_import(office, maebashi, register_csv([TARO]))
    client.get(URL)  # warm the municipality cache
    with django_assert_num_queries(6):
        assert client.get(URL).status_code == 200


# --- the resident's match -----------------------------------------------------------------------

MATCH_URL = "/m/maebashi/verify/register/"


def match_form(row: Sequence[str], **changes: str) -> dict[str, str]:
    return {"name": row[1], "birth_date": row[2], "address": row[3], **changes}


def test_resident_matches_the_register(
    maebashi: Municipality, office: User, resident: User
) -> None:
    do_import(office, maebashi, register_csv([TARO, HANAKO]))
    form = match_form(
        TARO, birth_date="平成２年４月１日", address="大手町2-12-1", name="山田　太郎"
    )
    response = client_for(resident).post(MATCH_URL, form)
    assert response.status_code == 302
    assert response["Location"] == "/m/maebashi/verification/"
    verification = Verification.objects.get(user=resident)
    assert verification.method == VerificationMethod.REGISTER
    assert verification.identity_hash == identity_hash(
        "register", identity_hash("register", TARO[0])
    )
    assert verification.resident_since == date(2001, 5, 1)


def test_no_match_says_so(maebashi: Municipality, office: User, resident: User) -> None:
    do_import(office, maebashi, register_csv([TARO]))
    response = client_for(resident).post(MATCH_URL, match_form(TARO, birth_date="1990-04-02"))
    assert response.status_code == 422
    assert "could not find you in the resident register" in response.content.decode()
    assert not Verification.objects.exists()


def test_bad_birth_date_is_a_form_error(
    maebashi: Municipality, office: User, resident: User
) -> None:
    do_import(office, maebashi, register_csv([TARO]))
    response = client_for(resident).post(MATCH_URL, match_form(TARO, birth_date="yesterday"))
    assert response.status_code == 422
    assert response.context["form"].errors["birth_date"]


def test_attempts_are_limited(maebashi: Municipality, office: User, resident: User) -> None:
    do_import(office, maebashi, register_csv([TARO]))
    client = client_for(resident)
    for day in range(1, MATCH_ATTEMPTS_PER_HOUR + 1):
        wrong = match_form(TARO, birth_date=f"1990-05-{day:02d}")
        assert client.post(MATCH_URL, wrong).status_code == 422
    response = client.post(MATCH_URL, match_form(TARO))  # right at last, but too late
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert "wait an hour" in response.content.decode()
    assert not Verification.objects.exists()
    assert client.get(MATCH_URL).status_code == 429
    # Another account is not affected.
    assert client_for(UserFactory()).post(MATCH_URL, match_form(TARO)).status_code == 302


def test_match_page_needs_sign_in_and_a_register(
    client: Client, maebashi: Municipality, resident: User
) -> None:
    assert client.get(MATCH_URL).status_code == 302
    body = client_for(resident).get(MATCH_URL).content.decode()
    assert "verify at the counter" in body and 'name="birth_date"' not in body


def test_match_page_queries(
    maebashi: Municipality,
    office: User,
    resident: User,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    do_import(office, maebashi, register_csv([TARO]))
    client = client_for(resident)
    client.get(MATCH_URL)
    with django_assert_num_queries(4):
        assert client.get(MATCH_URL).status_code == 200


# --- races (PostgreSQL) -------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_imports_serialise_and_leave_one_current_register() -> None:
    municipality = MunicipalityFactory(name="前橋市")
    actors = [staff(municipality, Role.ADMINISTRATOR), staff(municipality, Role.ELECTION_OFFICE)]
    files = [
        register_csv([TARO, HANAKO]),
        register_csv([JIRO, SABURO, TARO], encoding="cp932"),
        register_csv([HANAKO], encoding="utf-8-sig"),
        register_csv([SABURO, JIRO]),
    ]

    def work(index: int) -> services.ImportReport:
        actor = User.objects.get(pk=actors[index % 2].pk)
        return do_import(actor, Municipality.objects.get(pk=municipality.pk), files[index])

    outcomes = run_concurrently(work, len(files))
    reports = [o for o in outcomes if isinstance(o, services.ImportReport) and o.applied]
    assert len(reports) == len(files), outcomes
    current = ResidentRegister.objects.get(municipality=municipality, is_current=True)
    assert ResidentRegister.objects.filter(municipality=municipality).count() == len(files)
    assert RegisterEntry.objects.filter(register__municipality=municipality).count() == (
        current.row_count
    )
    assert not RegisterEntry.objects.exclude(register=current).exists()
    # Each import replaced exactly the register the one before it left: one chain, no forks.
    previous = [r.previous.pk if r.previous else None for r in reports]
    replaced = sorted(r.register.pk for r in reports if r.register.pk != current.pk)
    assert sorted(previous, key=lambda pk: pk or 0) == [None, *replaced]
