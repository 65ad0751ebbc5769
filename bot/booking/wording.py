"""The booking conversation's patient-facing texts, from the catalogue in texts.yml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CATALOGUE = Path(__file__).with_name("texts.yml")


@lru_cache(maxsize=1)
def _texts() -> dict[str, str]:
    return yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))


def text(key: str, **values: Any) -> str:
    """The text for `key` with its {placeholders} filled in (a missing key or value is a KeyError: a bug)."""
    return _texts()[key].format(**values)
