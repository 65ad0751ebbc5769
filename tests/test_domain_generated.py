"""The generated domain files (domain/answers.yml, domain/booking.yml) match their sources."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot import domain_files
from bot.booking.state import REQUIRED
from bot.triage.vocabulary import ANSWERS

ROOT = Path(__file__).resolve().parent.parent


def test_the_generated_domain_files_are_current() -> None:
    stale = [str(path.relative_to(ROOT)) for path in domain_files.stale()]
    assert stale == [], "run `.venv/bin/python -m bot.domain_files` and commit the result"


def test_every_answer_key_and_booking_detail_reaches_rasa() -> None:
    from rasa.shared.core.domain import Domain

    domain = Domain.load(ROOT / "domain")
    for key in ANSWERS:
        assert key in [slot.name for slot in domain.slots], key
        assert key in domain.entities, key
        assert key in domain.forms["triage_form"]["required_slots"], key
    for detail in {slot for mode in REQUIRED.values() for slot in mode}:
        assert detail in domain.forms["booking_form"]["required_slots"], detail


def test_the_hand_written_domain_declares_nothing_generated() -> None:
    hand = yaml.safe_load((ROOT / "domain" / "domain.yml").read_text())
    generated = {name for text in domain_files.generated().values()
                 for section in ("slots", "forms") for name in (yaml.safe_load(text).get(section) or {})}
    assert generated.isdisjoint(hand.get("slots", {})) and generated.isdisjoint(hand.get("forms") or {})


def test_the_check_command_reports_a_stale_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(domain_files, "DOMAIN", tmp_path)
    assert domain_files.main(["--check"]) == 1
    assert domain_files.main([]) == 0
    assert domain_files.main(["--check"]) == 0
