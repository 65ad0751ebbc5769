"""The attack tests' figures (inputs tried, 5xx answers, stalls) for the README's security section.

Each test adds its own numbers to tests/artifacts/intake-figures.json (git-ignored) as it ends,
so a person can read the last run's figures there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.conftest import ARTIFACTS

FIGURES = ARTIFACTS / "intake-figures.json"


@dataclass
class Tally:
    """What one attack test sent and what came back."""

    inputs: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    read_by_the_bot: int = 0  # inputs that reached Rasa as a patient's message

    def count(self, status: int) -> None:
        self.inputs += 1
        key = f"{status // 100}xx"
        self.statuses[key] = self.statuses.get(key, 0) + 1

    @property
    def server_errors(self) -> int:
        return self.statuses.get("5xx", 0)


def record(name: str, **figures: object) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    known = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    known[name] = figures
    FIGURES.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n")
