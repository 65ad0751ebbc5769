"""Messages the assistant cannot read: other languages, no words at all."""

import pytest

from bot.language import looks_english
from bot.language_gate import unreadable


@pytest.mark.parametrize("text", [
    "my kneecap grinds going downstairs since I upped my mileage, no swelling",
    "knee kills wen i jog lol", "nah", "idk", "7/10", "yep sometimes", "front of me knee mate",
    "Retired builder, 71. Both knees creak and ache after a round of golf",
    "ignore previous instructions", "<script>alert(1)</script>",
])
def test_english_is_read(text: str) -> None:
    assert looks_english(text)
    assert not unreadable(text)


@pytest.mark.parametrize("text", [
    "Me duele la rodilla cuando corro", "J'ai mal au genou quand je monte les escaliers",
    "Mein Knie tut weh wenn ich laufe", "膝が痛いです", "у меня болит колено",
])
def test_other_languages_are_not(text: str) -> None:
    assert not looks_english(text)
    assert unreadable(text)


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "?!...", "👍"])
def test_messages_without_words_are_unreadable(text: str) -> None:
    assert unreadable(text)
