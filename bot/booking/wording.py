"""The booking conversation's patient-facing texts, from the catalogue in texts.yml.

PLACEHOLDERS is the contract between the code and the catalogue: every key the code uses and the
{names} it fills in. The catalogue is checked against it when this module is imported (so when the
action server starts): a missing or unknown key, a misspelt or dropped {name}, or a stray brace is
a WordingError naming the key, never a crash in the middle of a patient's chat.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import yaml

CATALOGUE = Path(__file__).with_name("texts.yml")

# key -> the {names} its text must use (space-separated; "" for none)
PLACEHOLDERS: dict[str, frozenset[str]] = {key: frozenset(names.split()) for key, names in {
    "no_booking_emergency": "emergency_number",
    "callback_urgent": "urgent_care",
    "callback_person": "",
    "stop_emergency": "emergency_number",
    "offer": "appointment_type minutes wanted times",
    "offered_time": "number slot",
    "wish_on_day": "day",
    "wish_on_day_part": "day part_of_day",
    "wish_in_part": "part_of_day",
    "wish_from_day": "day",
    "wish_from_time": "time",
    "wish_before_time": "time",
    "no_slots": "phone",
    "proposal": "slot",
    "proposal_yes": "slot",
    "other_times": "",
    "closed": "wanted",
    "none_at": "wanted",
    "nearest": "times",
    "which_of": "options",
    "pick_or_day": "ordinal slot day",
    "ordinal_first": "",
    "ordinal_second": "",
    "ordinal_third": "",
    "morning_or_evening": "first second",
    "choice_again": "",
    "slot_taken": "",
    "diary_unreachable": "",
    "date": "weekday day month",
    "slot_time": "date time",
    "time_on_date": "time date",
    "with_practitioner": "slot practitioner",
    "either": "others last",
    "both": "first second",
    "ask_first_name": "",
    "ask_last_name": "",
    "ask_last_name_named": "first_name",
    "ask_contact": "",
    "ask_phone": "",
    "ask_callback_time": "",
    "first_name_again": "",
    "last_name_again": "",
    "phone_again": "",
    "email_again": "",
    "contact_again": "",
    "read_back": "appointment_type slot first_name last_name contact",
    "what_to_change": "",
    "change_time": "",
    "change_details": "",
    "booked": "appointment_type slot clinic address what_to_bring how_to_change",
    "confirmation_code": "code phone",
    "change_by_phone": "phone",
    "not_booked": "phone",
    "callback_done": "thanks clinic how when after",
    "thanks": "",
    "thanks_named": "first_name",
    "booking_failed": "",
    "manage_failed": "",
    "call_on": "phone",
    "call_using_details": "",
    "within_two_hours": "",
    "after_opening": "day time",
    "today": "",
    "tomorrow": "",
    "on_weekday": "weekday",
    "as_soon_as_we_can": "",
    "after_urgent": "urgent_care escalation",
    "after_routine": "emergency_number",
    "went_wrong": "phone",
    "ask_code_cancel": "",
    "ask_code_move": "",
    "not_a_code": "",
    "ask_booked_contact": "",
    "not_found": "",
    "not_found_last": "",
    "appointment": "appointment_type slot",
    "appointment_type_unknown": "",
    "found_cancel": "appointment",
    "found_move": "appointment",
    "already_cancelled": "appointment",
    "already_past": "appointment",
    "confirm_move": "old new",
    "cancelled_done": "appointment phone",
    "moved_done": "appointment clinic address code",
    "unchanged": "appointment",
    "unchanged_none": "",
    "button_later": "",
    "button_another_day": "",
    "button_mornings": "",
    "button_afternoons": "",
    "button_evenings": "",
    "button_morning": "",
    "button_afternoon": "",
    "button_evening": "",
    "button_as_soon_as_possible": "",
    "button_person": "",
    "button_book_it": "",
    "button_change_time": "",
    "button_change_details": "",
    "button_cancel": "",
    "button_never_mind": "",
    "button_yes_cancel": "",
    "button_no_keep": "",
    "button_yes_move": "",
    "button_another_time": "",
    "button_keep": "",
}.items()}


class WordingError(ValueError):
    """The catalogue does not fit the code (for whoever edits texts.yml), or the code asks for a text wrongly."""


def placeholders(template: str) -> set[str]:
    """The {names} a text uses; a stray brace, {0}, {name.attr}, {name[0]} or {name!r} is a ValueError."""
    names = set()
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} "
                             "is not a plain {name}")
        names.add(name)
    return names


def load(path: Path = CATALOGUE) -> dict[str, str]:
    """The catalogue at `path`, checked against PLACEHOLDERS (every problem in one WordingError)."""
    try:
        texts = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise WordingError(f"{path}: cannot be read: {error}") from error
    if not isinstance(texts, dict):
        raise WordingError(f"{path}: must be a list of `key: \"text\"` lines")
    problems = [f"{key}: missing" for key in PLACEHOLDERS if key not in texts]
    for key, template in texts.items():
        if key not in PLACEHOLDERS:
            problems.append(f"{key}: not a text the booking conversation uses (misspelt?)")
        elif not isinstance(template, str) or not template.strip():
            problems.append(f"{key}: must be a text in quotes")
        else:
            try:
                used = placeholders(template)
            except ValueError as error:
                problems.append(f"{key}: {error} (write {{{{ or }}}} for a brace itself)")
                continue
            expected = PLACEHOLDERS[key]
            if used - expected:
                problems.append(f"{key}: unknown {_names(used - expected)} (it can use {_names(expected) or 'none'})")
            if expected - used:
                problems.append(f"{key}: {_names(expected - used)} left out")
    if problems:
        raise WordingError(f"{path}: " + "; ".join(problems))
    return texts


def _names(names: set[str] | frozenset[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(names))


TEXTS = load()


def text(key: str, **values: Any) -> str:
    """The text for `key` with its {placeholders} filled in; other values than the catalogue's are a bug."""
    expected = PLACEHOLDERS.get(key)
    if expected is None or set(values) != expected:
        raise WordingError(f"text({key!r}) given {_names(set(values)) or 'no values'}, "
                           f"expects {_names(expected or frozenset()) or 'none'}")
    return TEXTS[key].format(**values)
