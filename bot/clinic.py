"""The clinic's own details (name, phones, booking link), read from a YAML file.

The file is `config/clinic.yml` unless CLINIC_CONFIG names another; it is checked at start-up
so a typo shows as a clear error, not as a broken message to a patient.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "clinic.yml"


class ClinicConfigError(ValueError):
    """The clinic file is missing, unreadable or incomplete."""


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str
    emergency_number: str
    urgent_care: str
    booking_url: str
    address: str


def load_clinic(path: str | Path | None = None) -> Clinic:
    path = Path(path or os.environ.get("CLINIC_CONFIG") or DEFAULT_PATH)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ClinicConfigError(f"cannot read clinic config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ClinicConfigError(f"clinic config {path} must be a mapping")
    fields = Clinic.__dataclass_fields__
    missing = [f for f in fields if not isinstance(data.get(f), str) or not data[f].strip()]
    if missing:
        raise ClinicConfigError(f"clinic config {path}: missing or empty {', '.join(missing)}")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ClinicConfigError(f"clinic config {path}: unknown field(s) {', '.join(unknown)}")
    return Clinic(**{f: data[f].strip() for f in fields})


@lru_cache(maxsize=1)
def clinic() -> Clinic:
    """The configured clinic, loaded once per process."""
    return load_clinic()
