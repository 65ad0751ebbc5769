"""The clinic file: the shipped one loads, and each kind of mistake stops start-up with a clear message."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
import yaml

from bot.clinic import ClinicConfigError, load_clinic
from tests.booking.clinics import clinic_data


def test_the_shipped_file_loads_with_everything_the_bot_uses() -> None:
    clinic = load_clinic()
    assert clinic.name and clinic.phone and clinic.emergency_number and clinic.urgent_care and clinic.booking_url
    assert clinic.tz.key == "Europe/London" and clinic.country == "GB"
    assert clinic.opening_hours[0] == ((time(8), time(12, 30)), (time(13, 30), time(18)))
    assert 6 not in clinic.opening_hours  # closed on Sundays
    assert clinic.bookable_type.name == "Initial assessment" and clinic.bookable_type.minutes == 45
    assert clinic.lead_times == {"soon": 2, "routine": 10, "self_care": 15}
    assert clinic.provider == "builtin" and clinic.cliniko.api_key_env == "CLINIKO_API_KEY"


@pytest.mark.parametrize(("change", "message"), [
    ({"phone": ""}, "missing or empty phone"),
    ({"timezone": "Mars/Olympus"}, "timezone: unknown time zone 'Mars/Olympus'"),
    ({"opening_hours": {"monday": ["9-5"]}}, "opening_hours.monday: '9-5' is not HH:MM-HH:MM"),
    ({"opening_hours": {"funday": ["09:00-17:00"]}}, "'funday' is not a weekday"),
    ({"opening_hours": {"monday": ["17:00-09:00"]}}, "ends before it starts"),
    ({"opening_hours": {"monday": ["09:00-13:00", "12:00-17:00"]}}, "ranges overlap"),
    ({"appointment_types": [{"id": "a", "name": "A", "minutes": 45, "bot_may_offer": False}]},
     "at least one needs bot_may_offer"),
    ({"appointment_types": [{"id": "a", "name": "A", "minutes": "45", "bot_may_offer": True}]},
     "minutes must be a whole number"),
    ({"practitioners": []}, "practitioners: must be a non-empty list"),
    ({"lead_times": {"soon": 2, "routine": 10, "self_care": 15, "urgent": 1}}, "urgent cannot be booked"),
    ({"lead_times": {"soon": 2, "routine": 10}}, "lead_times.self_care"),
    ({"booking": {"provider": "acuity"}}, "booking.provider: 'acuity' is not one of builtin, cliniko"),
    ({"booking": {"provider": "cliniko"}}, "settings are required when the provider is cliniko"),
    ({"booking": {"provider": "cliniko", "cliniko": {"api_key": "abc-uk2"}}}, "must not be in the file"),
    ({"colour": "green"}, "unknown field(s) colour"),
    ({"country": "England"}, "country: 'England' is not a two-letter country code"),
])
def test_mistakes_are_named(tmp_path: Path, change: dict, message: str) -> None:
    path = tmp_path / "clinic.yml"
    path.write_text(yaml.safe_dump(clinic_data(**change)))
    with pytest.raises(ClinicConfigError) as error:
        load_clinic(path)
    assert message in str(error.value) and str(path) in str(error.value)


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ClinicConfigError, match="cannot read clinic config"):
        load_clinic(tmp_path / "missing.yml")
