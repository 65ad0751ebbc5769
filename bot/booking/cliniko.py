"""Cliniko adapter: free times and appointments through Cliniko's public REST API (v1).

What Cliniko asks of API clients, and how it is met here:
- the shard is the API key's suffix ("...-uk2" -> https://api.uk2.cliniko.com/v1; no suffix -> au1);
- HTTP Basic auth with the key as user name and an empty password;
- a User-Agent naming the application and a contact email;
- lists are paginated: follow `links.next` until it is absent;
- available_times takes a `from`/`to` date range of at most 7 days;
- 429 Too Many Requests: wait until the rate-limit reset header says, then retry;
- a booking is cancelled with PATCH /individual_appointments/{id}/cancel (a cancellation_reason
  code is required: 50 is "Other") and moved with PATCH /individual_appointments/{id}.
Each booking is also recorded in our bookings table (bot.booking.records) with Cliniko's
appointment id, so the patient can find it again by its confirmation code.
CLINIKO_BASE_URL (or booking.cliniko.base_url) replaces the shard URL, e.g. for a test server.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from bot.booking import records
from bot.booking.base import BookingError, Confirmation, Patient, Slot, SlotTaken
from bot.booking.contact import clean_phone
from bot.booking.hours import days_between
from bot.booking.records import Stored
from bot.clinic import Clinic

UTC = timezone.utc
APP_NAME = "KneeTriageAssistant"
SHARD = re.compile(r"-([a-z]{2}\d+)$")
WINDOW_DAYS = 7  # Cliniko's maximum from/to range for available_times
PER_PAGE = 100
MAX_RETRIES = 3
MAX_WAIT_SECONDS = 60.0  # a longer rate-limit wait fails over to a call-back instead of a silent chat
CANCELLED_OTHER = 50  # Cliniko's cancellation reason codes: 10 feeling better ... 50 other
CANCELLATION_NOTE = "Cancelled by the patient in the chat assistant"


def base_url_for(api_key: str) -> str:
    match = SHARD.search(api_key)
    return f"https://api.{match.group(1) if match else 'au1'}.cliniko.com/v1"


class ClinikoProvider:
    name = "cliniko"

    def __init__(self, clinic: Clinic, api_key: str, *, base_url: str | None = None,
                 sleep: Callable[[float], None] = time.sleep, database_url: str | None = None) -> None:
        settings = clinic.cliniko
        if settings is None:
            raise BookingError("Cliniko is not configured (booking.cliniko in the clinic file)")
        self.clinic, self.settings, self.sleep, self.database_url = clinic, settings, sleep, database_url
        self.type = clinic.bookable_type
        if self.type.id not in settings.appointment_types:
            raise BookingError(f"booking.cliniko.appointment_types has no Cliniko id for {self.type.id!r}")
        self.base_url = (base_url or base_url_for(api_key)).rstrip("/")
        self.http = requests.Session()
        self.http.auth = (api_key, "")
        self.http.headers.update({"Accept": "application/json", "Content-Type": "application/json",
                                  "User-Agent": f"{APP_NAME} ({settings.contact_email})"})

    @classmethod
    def from_clinic(cls, clinic: Clinic) -> ClinikoProvider:
        settings = clinic.cliniko
        if settings is None:
            raise BookingError("Cliniko is not configured (booking.cliniko in the clinic file)")
        return cls(clinic, settings.api_key(), base_url=os.environ.get("CLINIKO_BASE_URL") or settings.base_url)

    # --- the provider interface ---

    def available_slots(self, start: datetime, end: datetime) -> list[Slot]:
        length = timedelta(minutes=self.type.minutes)
        slots = []
        for ours, theirs in self.settings.practitioners.items():
            practitioner = self.clinic.practitioner(ours)
            if practitioner is not None and not practitioner.gives(self.type.id):
                continue  # Cliniko keeps their hours and leave; which types they give is the clinic file's
            for starts_at in self._available_times(theirs, start, end):
                slots.append(Slot(starts_at, starts_at + length, ours, self.type.id))
        return sorted(slots)

    def book(self, slot: Slot, patient: Patient, *, notes: str, conversation_id: str) -> Confirmation:
        practitioner = self._practitioner_id(slot.practitioner_id)
        # Cliniko accepts overlapping appointments, so check the time is still free just before booking.
        if slot.starts_at not in self._available_times(practitioner, slot.starts_at, slot.ends_at):
            raise SlotTaken("that time is no longer free in Cliniko")
        patient_id = self._find_or_create_patient(patient)
        body = {
            "business_id": self.settings.business_id,
            "practitioner_id": practitioner,
            "appointment_type_id": self.settings.appointment_types[slot.appointment_type_id],
            "patient_id": patient_id,
            "starts_at": _iso(slot.starts_at),
            "ends_at": _iso(slot.ends_at),
            "notes": notes,
        }
        appointment = self._request("POST", "/individual_appointments", json=body)
        appointment_id = str(appointment.get("id", ""))
        stored = records.insert(slot, patient, notes=notes, conversation_id=conversation_id, provider=self.name,
                                external_id=appointment_id, database_url=self.database_url)
        return Confirmation(slot, appointment_id, stored.code)

    def cancel(self, booking: Stored, *, conversation_id: str) -> None:
        self._request("PATCH", f"/individual_appointments/{self._appointment_id(booking)}/cancel",
                      json={"cancellation_reason": CANCELLED_OTHER, "cancellation_note": CANCELLATION_NOTE})
        records.cancel(booking, conversation_id=conversation_id, database_url=self.database_url)

    def move(self, booking: Stored, slot: Slot, *, conversation_id: str) -> Confirmation:
        practitioner = self._practitioner_id(slot.practitioner_id)
        if slot.starts_at not in self._available_times(practitioner, slot.starts_at, slot.ends_at):
            raise SlotTaken("that time is no longer free in Cliniko")
        self._request("PATCH", f"/individual_appointments/{self._appointment_id(booking)}",
                      json={"practitioner_id": practitioner, "starts_at": _iso(slot.starts_at),
                            "ends_at": _iso(slot.ends_at)})
        moved = records.move(booking, slot, conversation_id=conversation_id, database_url=self.database_url)
        return Confirmation(slot, moved.external_id or "", moved.code)

    def _appointment_id(self, booking: Stored) -> str:
        if booking.provider != self.name or not booking.external_id:
            raise BookingError("this booking was not made in Cliniko")
        return booking.external_id

    # --- Cliniko calls ---

    def _available_times(self, practitioner: str, start: datetime, end: datetime) -> list[datetime]:
        path = (f"/businesses/{self.settings.business_id}/practitioners/{practitioner}"
                f"/appointment_types/{self.settings.appointment_types[self.type.id]}/available_times")
        found = []
        for first, last in _windows(list(days_between(self.clinic, start, end))):
            params = {"from": first.isoformat(), "to": last.isoformat(), "per_page": PER_PAGE}
            for item in self._pages(path, "available_times", params):
                starts_at = _parse_time(item.get("appointment_start"))
                if starts_at is not None and start <= starts_at < end:
                    found.append(starts_at)
        return found

    def _find_or_create_patient(self, patient: Patient) -> str:
        query = [f"last_name:={patient.last_name}", f"first_name:={patient.first_name}"]
        for candidate in self._pages("/patients", "patients", {"q[]": query, "per_page": PER_PAGE}):
            if _same_person(candidate, patient, self.clinic.country):
                return str(candidate["id"])
        body: dict[str, Any] = {"first_name": patient.first_name, "last_name": patient.last_name}
        if patient.email:
            body["email"] = patient.email
        if patient.phone:
            body["patient_phone_numbers"] = [{"phone_type": "Mobile", "number": patient.phone}]
        return str(self._request("POST", "/patients", json=body)["id"])

    def _practitioner_id(self, ours: str) -> str:
        try:
            return self.settings.practitioners[ours]
        except KeyError:
            raise BookingError(f"no Cliniko practitioner id for {ours!r}") from None

    def _pages(self, path: str, key: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        url: str | None = path
        while url:
            page = self._request("GET", url, params=params)
            yield from page.get(key) or []
            url, params = (page.get("links") or {}).get("next"), {}  # the next link carries the query

    def _request(self, method: str, path_or_url: str, **kwargs: Any) -> dict[str, Any]:
        url = path_or_url if path_or_url.startswith("http") else self.base_url + path_or_url
        for attempt in range(MAX_RETRIES + 1):
            try:
                response = self.http.request(method, url, timeout=self.settings.timeout_seconds, **kwargs)
            except requests.Timeout as exc:
                raise BookingError(f"Cliniko did not answer within {self.settings.timeout_seconds:g} s") from exc
            except requests.RequestException as exc:
                raise BookingError(f"cannot reach Cliniko: {type(exc).__name__}") from exc
            if response.status_code == 429 and attempt < MAX_RETRIES:
                wait = _retry_after(response)
                if wait > MAX_WAIT_SECONDS:
                    break
                self.sleep(wait)
                continue
            return _json_or_error(response)
        raise BookingError("Cliniko's rate limit: too many requests, try again later")


def _json_or_error(response: requests.Response) -> dict[str, Any]:
    status = response.status_code
    if status == 401:
        raise BookingError("Cliniko rejected the API key (401): check the key and its shard")
    if status == 403:
        raise BookingError("Cliniko refused the request (403): the API key's user lacks permission")
    if status == 404:
        raise BookingError(f"Cliniko has no such resource (404): {response.request.path_url.split('?')[0]}")
    if status == 429:
        raise BookingError("Cliniko's rate limit: too many requests, try again later")
    if status >= 400:
        detail = ""
        try:
            body = response.json()
            detail = f": {body.get('message') or body.get('errors') or ''}"
        except ValueError:
            pass
        raise BookingError(f"Cliniko answered {status}{detail}")
    if status == 204 or not response.content:
        return {}
    try:
        data = response.json()
    except ValueError as exc:
        raise BookingError(f"Cliniko answered {status} with something that is not JSON") from exc
    if not isinstance(data, dict):
        raise BookingError("Cliniko answered with an unexpected JSON shape")
    return data


def _retry_after(response: requests.Response) -> float:
    """Seconds until the rate limit resets: X-RateLimit-Reset (an epoch time, or seconds), else Retry-After."""
    now = time.time()
    for header in ("X-RateLimit-Reset", "Retry-After"):
        value = response.headers.get(header)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            try:
                number = parsedate_to_datetime(value).timestamp()
            except (TypeError, ValueError):
                continue
        seconds = number - now if number > 1_000_000_000 else number
        return max(0.0, seconds)
    return 1.0


def _windows(days: list[date]) -> Iterator[tuple[date, date]]:
    for i in range(0, len(days), WINDOW_DAYS):
        chunk = days[i: i + WINDOW_DAYS]
        yield chunk[0], chunk[-1]


def _same_person(candidate: dict[str, Any], patient: Patient, country: str) -> bool:
    """A name match is not enough: the email or a phone number has to match too."""
    if patient.email and (candidate.get("email") or "").lower() == patient.email.lower():
        return True
    # Cliniko keeps numbers as staff typed them (07700..., +44 7700...): compared in E.164, read in the clinic's country
    numbers = {clean_phone(str(n.get("number", "")), country) for n in candidate.get("patient_phone_numbers") or []}
    return bool(patient.phone) and clean_phone(patient.phone, country) in numbers - {None}


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
