"""The clinic's details, hours, practitioners, appointment types and booking settings, from YAML.

The file is `config/clinic.yml` unless CLINIC_CONFIG names another; it is checked at start-up
so a typo shows as a clear error naming the field, not as a broken message to a patient.
Secrets are never in the file: it names the environment variable that holds them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "clinic.yml"
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
BOOKABLE_LEVELS: tuple[str, ...] = ("soon", "routine", "self_care")  # urgent and emergency are never booked
PROVIDERS: tuple[str, ...] = ("builtin", "cliniko")
TEXT_FIELDS: tuple[str, ...] = ("name", "phone", "emergency_number", "urgent_care", "booking_url", "address",
                                "timezone", "what_to_bring")
HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
SECRET_KEYS = ("api_key", "password", "secret", "token")


class ClinicConfigError(ValueError):
    """The clinic file is missing, unreadable or wrong; the message names the field."""


@dataclass(frozen=True)
class Practitioner:
    id: str
    name: str


@dataclass(frozen=True)
class AppointmentType:
    id: str
    name: str
    minutes: int
    bot_may_offer: bool


@dataclass(frozen=True)
class ClinikoSettings:
    api_key_env: str
    business_id: str
    contact_email: str
    practitioners: dict[str, str]  # our practitioner id -> Cliniko's
    appointment_types: dict[str, str]  # our appointment type id -> Cliniko's
    timeout_seconds: float = 10.0
    base_url: str | None = None  # overrides the shard URL (CLINIKO_BASE_URL too): a test server

    def api_key(self, env: Mapping[str, str] | None = None) -> str:
        key = (os.environ if env is None else env).get(self.api_key_env, "").strip()
        if not key:
            raise ClinicConfigError(f"booking.cliniko: environment variable {self.api_key_env} is not set")
        return key


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str
    emergency_number: str
    urgent_care: str
    booking_url: str
    address: str
    timezone: str = "Europe/London"
    country: str = "GB"  # ISO 3166 region: how patients' phone numbers are read ("07700 900123")
    what_to_bring: str = "Please wear or bring shorts so the physio can see your knee."
    # weekday (0 = Monday) -> opening ranges, local time
    opening_hours: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    practitioners: tuple[Practitioner, ...] = ()
    appointment_types: tuple[AppointmentType, ...] = ()
    lead_times: dict[str, int] = field(default_factory=dict)  # triage level -> working days
    min_notice_minutes: int = 120
    provider: str = "builtin"
    cliniko: ClinikoSettings | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def bookable_type(self) -> AppointmentType:
        """The appointment type the assistant books (the first one it may offer)."""
        return next(t for t in self.appointment_types if t.bot_may_offer)

    def practitioner(self, practitioner_id: str) -> Practitioner | None:
        return next((p for p in self.practitioners if p.id == practitioner_id), None)


def load_clinic(path: str | Path | None = None) -> Clinic:
    path = Path(path or os.environ.get("CLINIC_CONFIG") or DEFAULT_PATH)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ClinicConfigError(f"cannot read clinic config {path}: {exc}") from exc
    try:
        return parse_clinic(data)
    except ClinicConfigError as exc:
        raise ClinicConfigError(f"clinic config {path}: {exc}") from None


def parse_clinic(data: Any) -> Clinic:
    if not isinstance(data, dict):
        raise ClinicConfigError("must be a mapping")
    known = {*TEXT_FIELDS, "country", "opening_hours", "practitioners", "appointment_types", "lead_times",
             "min_notice_minutes", "booking"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ClinicConfigError(f"unknown field(s) {', '.join(unknown)}")
    missing = [f for f in TEXT_FIELDS if not isinstance(data.get(f), str) or not data[f].strip()]
    if missing:
        raise ClinicConfigError(f"missing or empty {', '.join(missing)}")
    try:
        ZoneInfo(data["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ClinicConfigError(f"timezone: unknown time zone {data['timezone']!r} (e.g. Europe/London)") from None
    practitioners = tuple(Practitioner(**_entry(p, "practitioners", ("id", "name")))
                          for p in _list(data, "practitioners"))
    types = tuple(_appointment_type(t) for t in _list(data, "appointment_types"))
    for label, items in (("practitioners", practitioners), ("appointment_types", types)):
        ids = [i.id for i in items]
        if len(set(ids)) != len(ids):
            raise ClinicConfigError(f"{label}: ids must be unique")
    if not any(t.bot_may_offer for t in types):
        raise ClinicConfigError("appointment_types: at least one needs bot_may_offer: true")
    booking = data.get("booking") or {}
    if not isinstance(booking, dict):
        raise ClinicConfigError("booking must be a mapping")
    provider = booking.get("provider", "builtin")
    if provider not in PROVIDERS:
        raise ClinicConfigError(f"booking.provider: {provider!r} is not one of {', '.join(PROVIDERS)}")
    cliniko = _cliniko(booking.get("cliniko"), practitioners, types) if booking.get("cliniko") else None
    if provider == "cliniko" and cliniko is None:
        raise ClinicConfigError("booking.cliniko: settings are required when the provider is cliniko")
    notice = data.get("min_notice_minutes", 120)
    if not isinstance(notice, int) or isinstance(notice, bool) or notice < 0:
        raise ClinicConfigError("min_notice_minutes must be a whole number of minutes, 0 or more")
    return Clinic(
        **{f: data[f].strip() for f in TEXT_FIELDS}, country=_country(data.get("country", "GB")),
        opening_hours=_opening_hours(data.get("opening_hours")),
        practitioners=practitioners, appointment_types=types, lead_times=_lead_times(data.get("lead_times")),
        min_notice_minutes=notice, provider=provider, cliniko=cliniko,
    )


def _country(value: Any) -> str:
    code = str(value).strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ClinicConfigError(f"country: {value!r} is not a two-letter country code (e.g. GB, IE, US)")
    return code


def _list(data: dict, key: str) -> list:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise ClinicConfigError(f"{key}: must be a non-empty list")
    return value


def _entry(value: Any, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    if not isinstance(value, dict):
        raise ClinicConfigError(f"{where}: each entry must be a mapping")
    extra = sorted(set(value) - set(required) - set(optional))
    if extra:
        raise ClinicConfigError(f"{where}: unknown field(s) {', '.join(extra)}")
    for key in required:
        if not isinstance(value.get(key), str) or not value[key].strip():
            raise ClinicConfigError(f"{where}: {key} is missing or empty in {value!r}")
    return value


def _appointment_type(value: Any) -> AppointmentType:
    entry = _entry(value, "appointment_types", ("id", "name"), ("minutes", "bot_may_offer"))
    minutes = entry.get("minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 5 <= minutes <= 240:
        raise ClinicConfigError(f"appointment_types: {entry['id']}: minutes must be a whole number from 5 to 240")
    offer = entry.get("bot_may_offer", False)
    if not isinstance(offer, bool):
        raise ClinicConfigError(f"appointment_types: {entry['id']}: bot_may_offer must be true or false")
    return AppointmentType(entry["id"], entry["name"], minutes, offer)


def _opening_hours(value: Any) -> dict[int, tuple[tuple[time, time], ...]]:
    if not isinstance(value, dict) or not value:
        raise ClinicConfigError("opening_hours: must map weekdays (monday...) to lists like [\"08:00-18:00\"]")
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for day, ranges in value.items():
        if day not in WEEKDAYS:
            raise ClinicConfigError(f"opening_hours: {day!r} is not a weekday (monday...sunday)")
        if not isinstance(ranges, list):
            raise ClinicConfigError(f"opening_hours.{day}: must be a list like [\"08:00-18:00\"]")
        parsed = []
        for text in ranges:
            match = HOURS.match(str(text))
            if not match:
                raise ClinicConfigError(f"opening_hours.{day}: {text!r} is not HH:MM-HH:MM")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            start, end = time(h1, m1), time(23, 59) if h2 == 24 else time(h2, m2)
            if end <= start:
                raise ClinicConfigError(f"opening_hours.{day}: {text!r} ends before it starts")
            parsed.append((start, end))
        parsed.sort()
        if any(a[1] > b[0] for a, b in zip(parsed, parsed[1:], strict=False)):
            raise ClinicConfigError(f"opening_hours.{day}: ranges overlap")
        hours[WEEKDAYS.index(day)] = tuple(parsed)
    return hours


def _lead_times(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ClinicConfigError(f"lead_times: must map {', '.join(BOOKABLE_LEVELS)} to working days")
    unknown = sorted(set(value) - set(BOOKABLE_LEVELS))
    if unknown:
        raise ClinicConfigError(f"lead_times: {', '.join(unknown)} cannot be booked "
                                f"(only {', '.join(BOOKABLE_LEVELS)})")
    for level in BOOKABLE_LEVELS:
        days = value.get(level)
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 90:
            raise ClinicConfigError(f"lead_times.{level}: must be a whole number of working days from 1 to 90")
    return dict(value)


def _cliniko(value: Any, practitioners: tuple[Practitioner, ...],
             types: tuple[AppointmentType, ...]) -> ClinikoSettings:
    if not isinstance(value, dict):
        raise ClinicConfigError("booking.cliniko must be a mapping")
    secrets = [k for k in value if any(s in k.lower() for s in SECRET_KEYS) and k != "api_key_env"]
    if secrets:
        raise ClinicConfigError(f"booking.cliniko: {', '.join(secrets)} must not be in the file; "
                                "put the key in the environment and name the variable in api_key_env")
    allowed = {"api_key_env", "business_id", "contact_email", "practitioners", "appointment_types",
               "timeout_seconds", "base_url"}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise ClinicConfigError(f"booking.cliniko: unknown field(s) {', '.join(unknown)}")
    for key in ("api_key_env", "business_id", "contact_email"):
        if not isinstance(value.get(key), str) or not value[key].strip():
            raise ClinicConfigError(f"booking.cliniko.{key}: missing or empty")
    if "@" not in value["contact_email"]:
        raise ClinicConfigError("booking.cliniko.contact_email: must be an email address (Cliniko requires one)")
    maps = {}
    for key, ours in (("practitioners", {p.id for p in practitioners}), ("appointment_types", {t.id for t in types})):
        mapping = value.get(key)
        if not isinstance(mapping, dict) or not mapping:
            raise ClinicConfigError(f"booking.cliniko.{key}: must map our ids to Cliniko ids")
        strange = sorted(set(mapping) - ours)
        if strange:
            raise ClinicConfigError(f"booking.cliniko.{key}: {', '.join(strange)} not defined in {key}")
        maps[key] = {k: str(v) for k, v in mapping.items()}
    timeout = value.get("timeout_seconds", 10)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= 120:
        raise ClinicConfigError("booking.cliniko.timeout_seconds: must be a number of seconds from 0 to 120")
    return ClinikoSettings(value["api_key_env"], value["business_id"], value["contact_email"], maps["practitioners"],
                           maps["appointment_types"], float(timeout), value.get("base_url"))


@lru_cache(maxsize=1)
def clinic() -> Clinic:
    """The configured clinic, loaded once per process."""
    return load_clinic()


if __name__ == "__main__":  # `python -m bot.clinic`: check the clinic file
    import sys

    try:
        checked = load_clinic()
    except ClinicConfigError as error:
        sys.exit(f"error: {error}")
    print(f"{checked.name}: {len(checked.practitioners)} practitioner(s), booking with {checked.provider}")
