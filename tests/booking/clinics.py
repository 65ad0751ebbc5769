"""Clinic configurations for the booking tests, built from the shipped file with changes."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from bot.clinic import DEFAULT_PATH, Clinic, parse_clinic

SHIPPED: dict[str, Any] = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def clinic_data(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SHIPPED)
    data["booking"] = {"provider": "builtin"}  # the Cliniko id maps name the shipped practitioners
    data.update(changes)
    return data


def make_clinic(**changes: Any) -> Clinic:
    return parse_clinic(clinic_data(**changes))
