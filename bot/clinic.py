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
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
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


Ranges = tuple[tuple[time, time], ...]  # local start-end times on one day, sorted, not overlapping


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date  # inclusive
    name: str = ""

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


@dataclass(frozen=True)
class Practitioner:
    id: str
    name: str
    # weekday (0 = Monday) -> the hours they see patients, breaks taken out; None: the clinic's opening hours
    working_hours: dict[int, Ranges] | None = None
    appointment_types: tuple[str, ...] | None = None  # the types they give; None: all of them
    leave: tuple[DateRange, ...] = ()  # holidays and other days off

    def gives(self, appointment_type_id: str) -> bool:
        return self.appointment_types is None or appointment_type_id in self.appointment_types

    def away_on(self, day: date) -> bool:
        return any(day in r for r in self.leave)


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
    opening_hours: dict[int, Ranges] = field(default_factory=dict)
    closures: tuple[DateRange, ...] = ()  # days the whole clinic is shut (its own dates)
    public_holidays: str | None = None  # "yes" (national ones) or a region of `country` ("ENG"); None: open on them
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

    def closed_for(self, day: date) -> str | None:
        """Why the whole clinic is shut that day ("Christmas Day"), or None when it keeps its usual hours."""
        closure = next((c for c in self.closures if day in c), None)
        if closure:
            return closure.name or "closed"
        if self.public_holidays:
            return _public_holidays(self.country, self.public_holidays, day.year).get(day)
        return None

    def hours_on(self, day: date, practitioner: Practitioner | None = None) -> Ranges:
        """Local opening hours that day, or one practitioner's working hours then (within the clinic's)."""
        if self.closed_for(day) or (practitioner and practitioner.away_on(day)):
            return ()
        opening = self.opening_hours.get(day.weekday(), ())
        if practitioner is None or practitioner.working_hours is None:
            return opening
        return _intersect(practitioner.working_hours.get(day.weekday(), ()), opening)


@lru_cache(maxsize=64)
def _public_holidays(country: str, region: str, year: int) -> dict[date, str]:
    subdiv = None if region == "yes" else region
    return dict(holidays.country_holidays(country, subdiv=subdiv, years=year))


def _intersect(ours: Ranges, theirs: Ranges) -> Ranges:
    overlap = ((max(a, c), min(b, d)) for a, b in ours for c, d in theirs)
    return tuple(sorted((start, end) for start, end in overlap if start < end))


def _subtract(ranges: Ranges, breaks: Ranges) -> Ranges:
    """The ranges with the breaks cut out ("08:00-18:00" less "12:30-13:15": two ranges)."""
    left = list(ranges)
    for cut_start, cut_end in breaks:
        pieces = []
        for start, end in left:
            if cut_end <= start or end <= cut_start:
                pieces.append((start, end))
                continue
            if start < cut_start:
                pieces.append((start, cut_start))
            if cut_end < end:
                pieces.append((cut_end, end))
        left = pieces
    return tuple(sorted(left))


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
    known = {*TEXT_FIELDS, "country", "opening_hours", "closures", "practitioners", "appointment_types",
             "lead_times", "min_notice_minutes", "booking"}
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
    country = _country(data.get("country", "GB"))
    opening_hours = _opening_hours(data.get("opening_hours"))
    closures, public_holidays = _closures(data.get("closures"), country)
    types = tuple(_appointment_type(t) for t in _list(data, "appointment_types"))
    practitioners = tuple(_practitioner(p, {t.id for t in types}) for p in _list(data, "practitioners"))
    for label, items in (("practitioners", practitioners), ("appointment_types", types)):
        ids = [i.id for i in items]
        if len(set(ids)) != len(ids):
            raise ClinicConfigError(f"{label}: ids must be unique")
    if not any(t.bot_may_offer for t in types):
        raise ClinicConfigError("appointment_types: at least one needs bot_may_offer: true")
    bookable = next(t for t in types if t.bot_may_offer)
    if not any(p.gives(bookable.id) for p in practitioners):
        raise ClinicConfigError(f"practitioners: nobody gives {bookable.id!r} appointments (appointment_types), "
                                "so the assistant could never book one")
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
        **{f: data[f].strip() for f in TEXT_FIELDS}, country=country, opening_hours=opening_hours,
        closures=closures, public_holidays=public_holidays, practitioners=practitioners, appointment_types=types,
        lead_times=_lead_times(data.get("lead_times")),
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


def _opening_hours(value: Any, where: str = "opening_hours") -> dict[int, Ranges]:
    if not isinstance(value, dict) or not value:
        raise ClinicConfigError(f"{where}: must map weekdays (monday...) to lists like [\"08:00-18:00\"]")
    hours: dict[int, Ranges] = {}
    for day, ranges in value.items():
        if day not in WEEKDAYS:
            raise ClinicConfigError(f"{where}: {day!r} is not a weekday (monday...sunday)")
        hours[WEEKDAYS.index(day)] = _ranges(ranges, f"{where}.{day}")
    return hours


def _ranges(value: Any, where: str) -> Ranges:
    if not isinstance(value, list):
        raise ClinicConfigError(f"{where}: must be a list like [\"08:00-18:00\"]")
    parsed = []
    for text in value:
        match = HOURS.match(str(text))
        if not match:
            raise ClinicConfigError(f"{where}: {text!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = time(h1, m1), time(23, 59) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ClinicConfigError(f"{where}: {text!r} ends before it starts")
        parsed.append((start, end))
    parsed.sort()
    if any(a[1] > b[0] for a, b in zip(parsed, parsed[1:], strict=False)):
        raise ClinicConfigError(f"{where}: ranges overlap")
    return tuple(parsed)


def _practitioner(value: Any, type_ids: set[str]) -> Practitioner:
    entry = _entry(value, "practitioners", ("id", "name"), ("working_hours", "breaks", "appointment_types", "leave"))
    where = f"practitioners.{entry['id']}"
    hours = _opening_hours(entry["working_hours"], f"{where}.working_hours") if "working_hours" in entry else None
    breaks = _ranges(entry.get("breaks") or [], f"{where}.breaks")
    if breaks and hours is None:
        raise ClinicConfigError(f"{where}.breaks: give working_hours too (breaks are taken out of them)")
    if hours is not None:
        hours = {day: _subtract(ranges, breaks) for day, ranges in hours.items()}
    types = entry.get("appointment_types")
    if types is not None:
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            raise ClinicConfigError(f"{where}.appointment_types: must be a list of appointment type ids")
        unknown = sorted(set(types) - type_ids)
        if unknown:
            raise ClinicConfigError(f"{where}.appointment_types: {', '.join(unknown)} not defined in appointment_types")
        types = tuple(types)
    leave = _date_ranges(entry.get("leave") or [], f"{where}.leave")
    return Practitioner(entry["id"], entry["name"], hours, types, leave)


def _closures(value: Any, country: str) -> tuple[tuple[DateRange, ...], str | None]:
    if value is None:
        return (), None
    if not isinstance(value, dict) or set(value) - {"public_holidays", "dates"}:
        raise ClinicConfigError("closures: must be a mapping with public_holidays and/or dates")
    region = value.get("public_holidays", False)
    if region is True:
        region = "yes"
    elif region is False or region is None:
        region = None
    elif not isinstance(region, str) or region.upper() not in holidays.country_holidays(country).subdivisions:
        regions = ", ".join(holidays.country_holidays(country).subdivisions) or "none"
        raise ClinicConfigError(f"closures.public_holidays: {region!r} is not a region of {country} "
                                f"(true for national holidays only, or one of: {regions})")
    else:
        region = region.upper()
    return _date_ranges(value.get("dates") or [], "closures.dates"), region


def _date_ranges(value: Any, where: str) -> tuple[DateRange, ...]:
    """Entries like "2026-12-24" (one day) or {from: 2026-12-24, to: 2026-12-31, name: Christmas}."""
    if not isinstance(value, list):
        raise ClinicConfigError(f"{where}: must be a list of dates or {{from: ..., to: ...}} ranges")
    found = []
    for item in value:
        if isinstance(item, dict):
            extra = sorted(set(item) - {"from", "to", "name"})
            if extra:
                raise ClinicConfigError(f"{where}: unknown field(s) {', '.join(extra)}")
            first, last = _date(item.get("from"), where), _date(item.get("to", item.get("from")), where)
            name = str(item.get("name") or "").strip()
        else:
            first = last = _date(item, where)
            name = ""
        if last < first:
            raise ClinicConfigError(f"{where}: {first} to {last} ends before it starts")
        found.append(DateRange(first, last, name))
    return tuple(sorted(found, key=lambda r: r.first))


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):  # YAML reads an unquoted 2026-12-24 as a date already
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ClinicConfigError(f"{where}: {value!r} is not a date like 2026-12-24") from None


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
