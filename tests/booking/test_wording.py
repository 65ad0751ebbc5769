"""The booking texts' catalogue (bot/booking/texts.yml) against the code that fills it in: a clinician's
edit that breaks a text is refused when the assistant starts, naming the key, not mid-chat."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from bot.booking.wording import CATALOGUE, PLACEHOLDERS, WordingError, load, text

ROOT = Path(__file__).resolve().parents[2]
CODE = sorted((ROOT / "bot" / "booking").glob("*.py")) + [ROOT / "actions" / "booking.py"]


def calls() -> list[tuple[str, int, ast.Call]]:
    """Every call of bot.booking.wording.text in the booking code, by file and line."""
    found = []
    for path in CODE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.module == "bot.booking.wording" for alias in node.names if alias.name == "text"}
        found += [(path.name, node.lineno, node) for node in ast.walk(tree) if isinstance(node, ast.Call)
                  and isinstance(node.func, ast.Name) and node.func.id in names]
    return found


def constant_keys(node: ast.expr) -> list[str] | None:
    """The keys a call's first argument can be ("a" if x else "b" too); None when worked out at run time."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = constant_keys(node.body), constant_keys(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def test_the_shipped_catalogue_has_every_text_with_its_placeholders() -> None:
    texts = load(CATALOGUE)
    assert set(texts) == set(PLACEHOLDERS)
    for key, names in PLACEHOLDERS.items():
        filled = text(key, **{name: f"<{name}>" for name in names})
        assert all(f"<{name}>" in filled for name in names) and "{" not in filled, key


def test_every_text_the_code_asks_for_is_in_the_catalogue_with_the_values_it_fills() -> None:
    found = calls()
    assert len(found) > 80, "the scan finds the calls"
    for file, line, call in found:
        assert len(call.args) == 1 and all(k.arg for k in call.keywords), f"{file}:{line}: text(key, name=value)"
        keys = constant_keys(call.args[0])
        filled = {k.arg for k in call.keywords}
        if keys is None:  # a key picked from a table (the buttons by part of day): those take no values
            assert not filled, f"{file}:{line}"
            continue
        for key in keys:
            assert key in PLACEHOLDERS, f"{file}:{line}: {key!r} is not in the catalogue"
            assert filled == PLACEHOLDERS[key], f"{file}:{line}: {key!r} gets {filled}, not {PLACEHOLDERS[key]}"


def test_no_text_in_the_catalogue_is_left_unused() -> None:
    used = set()
    for path in CODE:
        used |= {node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert set(PLACEHOLDERS) - used == set()


def edited(tmp_path: Path, **changes: object) -> Path:
    texts = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            del texts[key]
        else:
            texts[key] = value
    path = tmp_path / "texts.yml"
    path.write_text(yaml.safe_dump(texts, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("changes", "says"), [
    ({"not_booked": None}, "not_booked: missing"),
    ({"not_bookd": "No problem."}, "not_bookd: not a text the booking conversation uses"),
    ({"not_booked": "Nothing booked. Call us on {phone_number}."},
     "not_booked: unknown {phone_number} (it can use {phone}); not_booked: {phone} left out"),
    ({"not_booked": "No problem, nothing has been booked."}, "not_booked: {phone} left out"),
    ({"proposal": "{slot is free. Shall I book it?"}, "proposal: "),
    ({"proposal": "{slot} is free {}"}, "proposal: {} is not a plain {name}"),
    ({"proposal": "{slot.starts_at} is free"}, "proposal: {slot.starts_at} is not a plain {name}"),
    ({"booked": ["You're booked in"]}, "booked: must be a text in quotes"),
    ({"ask_phone": ""}, "ask_phone: must be a text in quotes"),
], ids=["missing", "misspelt key", "misspelt name", "dropped name", "stray brace", "empty braces", "attribute",
        "not text", "empty"])
def test_a_broken_edit_is_refused_naming_the_key(tmp_path: Path, changes: dict[str, object], says: str) -> None:
    with pytest.raises(WordingError) as refused:
        load(edited(tmp_path, **changes))
    assert says in str(refused.value) and str(tmp_path) in str(refused.value)


def test_several_problems_are_reported_at_once_and_a_valid_edit_loads(tmp_path: Path) -> None:
    with pytest.raises(WordingError, match=r"ask_phone: missing.*not_booked: \{phone\} left out"):
        load(edited(tmp_path, ask_phone=None, not_booked="Nothing booked."))
    reworded = load(edited(tmp_path, not_booked="Nothing is booked. Ring {phone} if you change your mind {{or not}}."))
    assert reworded["not_booked"].format(phone="020") == "Nothing is booked. Ring 020 if you change your mind {or not}."
    (tmp_path / "broken.yml").write_text("proposal: [unclosed", encoding="utf-8")
    with pytest.raises(WordingError, match="cannot be read"):
        load(tmp_path / "broken.yml")


def test_the_code_asking_for_a_text_wrongly_is_an_error_not_a_half_filled_text() -> None:
    with pytest.raises(WordingError, match="expects {phone}"):
        text("not_booked")
    with pytest.raises(WordingError):
        text("not_booked", phone="020", name="Sam")
    with pytest.raises(WordingError):
        text("no_such_text")
