"""The Cliniko adapter over real HTTP against the fake Cliniko server: the production code path."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from bot.booking import BookingError, Patient, SlotTaken
from bot.booking.cliniko import ClinikoProvider, base_url_for
from bot.booking.offer import next_slots
from bot.clinic import ClinicConfigError
from tests.booking.clinics import make_clinic
from tests.booking.fake_cliniko import API_KEY, FakeCliniko, fake_cliniko

UTC = timezone.utc
MONDAY_7AM = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
SAM = Patient("Sam", "Taylor", phone="+447700900123", email="sam@example.com")
CLINIKO = {"provider": "cliniko", "cliniko": {
    "api_key_env": "CLINIKO_API_KEY", "business_id": "77", "contact_email": "it@riverside-physio.example",
    "practitioners": {"anna": "1001", "ben": "1002"}, "appointment_types": {"initial": "2001"},
    "timeout_seconds": 2}}


@pytest.fixture(autouse=True)
def bookings_table(database: str) -> str:
    """Where the adapter records each Cliniko booking with its confirmation code."""
    return database


def provider(fake: FakeCliniko, api_key: str = API_KEY, sleep: list[float] | None = None) -> ClinikoProvider:
    waits = sleep if sleep is not None else []
    return ClinikoProvider(make_clinic(booking=CLINIKO), api_key, base_url=fake.base, sleep=waits.append)


def free_times() -> dict[str, list[str]]:
    # Anna: Monday 09:30 and 10:15 and next Monday; Ben: Monday 09:30 and Tuesday 08:00.
    return {"1001": ["2026-11-30T09:30:00Z", "2026-11-30T10:15:00Z", "2026-12-07T08:00:00Z"],
            "1002": ["2026-11-30T09:30:00Z", "2026-12-01T08:00:00Z"]}


def test_shard_comes_from_the_api_key_suffix() -> None:
    assert base_url_for("abc-uk2") == "https://api.uk2.cliniko.com/v1"
    assert base_url_for("abc-au4") == "https://api.au4.cliniko.com/v1"
    assert base_url_for("no-shard-suffix") == "https://api.au1.cliniko.com/v1"


def test_the_key_comes_from_the_environment_never_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ClinicConfigError, match="must not be in the file"):
        make_clinic(booking={"provider": "cliniko", "cliniko": {**CLINIKO["cliniko"], "api_key": "secret-uk2"}})
    monkeypatch.delenv("CLINIKO_API_KEY", raising=False)
    with pytest.raises(ClinicConfigError, match="CLINIKO_API_KEY is not set"):
        ClinikoProvider.from_clinic(make_clinic(booking=CLINIKO))
    monkeypatch.setenv("CLINIKO_API_KEY", "key-uk2")
    monkeypatch.delenv("CLINIKO_BASE_URL", raising=False)
    assert ClinikoProvider.from_clinic(make_clinic(booking=CLINIKO)).base_url == "https://api.uk2.cliniko.com/v1"


def test_free_times_across_pages_and_seven_day_windows() -> None:
    with fake_cliniko(FakeCliniko(free=free_times(), page_size=1)) as fake:
        slots = provider(fake).available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(days=10))
        assert [(s.starts_at.strftime("%d %H:%M"), s.practitioner_id) for s in slots] == [
            ("30 09:30", "anna"), ("30 09:30", "ben"), ("30 10:15", "anna"), ("01 08:00", "ben"),
            ("07 08:00", "anna")]
        assert all(s.ends_at - s.starts_at == timedelta(minutes=45) for s in slots)
        windows = [(r["query"]["from"][0], r["query"]["to"][0]) for r in fake.requests
                   if r["path"].endswith("available_times") and "page" not in r["query"]]
        assert windows[:2] == [("2026-11-30", "2026-12-06"), ("2026-12-07", "2026-12-10")]
        assert any("page" in r["query"] for r in fake.requests)  # links.next was followed
        headers = fake.requests[0]["headers"]
        assert headers["User-Agent"] == "KneeTriageAssistant (it@riverside-physio.example)"
        assert headers["Accept"] == "application/json"


def test_booking_creates_the_patient_and_the_appointment_with_the_triage_notes() -> None:
    with fake_cliniko(FakeCliniko(free=free_times())) as fake:
        cliniko = provider(fake)
        clinic = cliniko.clinic
        slot = next_slots(cliniko, clinic, "routine", now=MONDAY_7AM)[0]
        confirmation = cliniko.book(slot, SAM, notes="Triage: routine. Best fit: runner's knee.", conversation_id="c1")
        [patient] = fake.patients
        assert (patient["first_name"], patient["email"]) == ("Sam", "sam@example.com")
        assert patient["patient_phone_numbers"] == [{"phone_type": "Mobile", "number": "+447700900123"}]
        [appointment] = fake.appointments
        assert confirmation.reference == appointment["id"]
        assert appointment["starts_at"] == "2026-11-30T09:30:00Z" and appointment["ends_at"] == "2026-11-30T10:15:00Z"
        assert (appointment["business_id"], appointment["appointment_type_id"]) == ("77", "2001")
        assert appointment["practitioner_id"] in ("1001", "1002")
        assert appointment["notes"].startswith("Triage: routine")
        # the same patient booking again is found, not duplicated
        later = next_slots(cliniko, clinic, "routine", now=MONDAY_7AM)[0]
        cliniko.book(later, Patient("Sam", "Taylor", phone="07700 900123"), notes="", conversation_id="c2")
        assert len(fake.patients) == 1 and len(fake.appointments) == 2


def test_a_time_taken_meanwhile_is_reported_as_taken() -> None:
    with fake_cliniko(FakeCliniko(free=free_times())) as fake:
        cliniko = provider(fake)
        slot = cliniko.available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(days=1))[0]
        fake.free[cliniko.settings.practitioners[slot.practitioner_id]].remove("2026-11-30T09:30:00Z")
        with pytest.raises(SlotTaken):
            cliniko.book(slot, SAM, notes="", conversation_id="c1")
        assert fake.appointments == []


def test_a_wrong_key_is_a_clear_error() -> None:
    with fake_cliniko(FakeCliniko(free=free_times())) as fake, \
            pytest.raises(BookingError, match="rejected the API key \\(401\\)"):
        provider(fake, api_key="wrong-key-uk2").available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(days=1))


def test_rate_limit_waits_until_the_reset_header_then_retries() -> None:
    waits: list[float] = []
    with fake_cliniko(FakeCliniko(free=free_times())) as fake:
        fake.fail_next(429, X_RateLimit_Reset=str(int(time.time()) + 5))
        fake.fail_next(429, X_RateLimit_Reset="2")
        slots = provider(fake, sleep=waits).available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(days=1))
    assert len(slots) == 3
    assert 3 <= waits[0] <= 5 and waits[1] == 2


def test_rate_limit_that_never_lifts_is_an_error_not_a_hang() -> None:
    with fake_cliniko(FakeCliniko(free=free_times())) as fake:
        for _ in range(5):
            fake.fail_next(429, X_RateLimit_Reset="1")
        with pytest.raises(BookingError, match="rate limit"):
            provider(fake).available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(days=1))
        fake.failures.clear()
        fake.fail_next(429, X_RateLimit_Reset=str(int(time.time()) + 3600))  # an hour away: give up at once
        with pytest.raises(BookingError, match="rate limit"):
            provider(fake).available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(days=1))


def test_a_slow_cliniko_times_out_with_a_clear_error() -> None:
    with fake_cliniko(FakeCliniko(free=free_times(), delay=3)) as fake:
        started = time.monotonic()
        with pytest.raises(BookingError, match="did not answer within 2 s"):
            provider(fake).available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(days=1))
        assert time.monotonic() - started < 5


def test_unreachable_and_rejected_requests_are_booking_errors() -> None:
    with fake_cliniko() as fake:
        base = fake.base
    cliniko = ClinikoProvider(make_clinic(booking=CLINIKO), API_KEY, base_url=base)
    with pytest.raises(BookingError, match="cannot reach Cliniko"):
        cliniko.available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(days=1))
    with fake_cliniko(FakeCliniko(free=free_times())) as fake:
        fake.fail_next(422)
        with pytest.raises(BookingError, match="Cliniko answered 422: scripted failure"):
            provider(fake).available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(days=1))
