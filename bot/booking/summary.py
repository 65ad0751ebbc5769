"""The triage summary that goes with a booking or call-back, so the physio reads it beforehand."""

from __future__ import annotations

from typing import Any

from bot.triage import assess

MAX_CONDITIONS = 3


def triage_summary(answers: dict[str, Any]) -> str:
    """Plain text: level, best fits, red flags, reasons and the answers given."""
    if not answers:
        return "Triage by the chat assistant: not done (the patient asked before answering the questions)."
    result = assess(answers)
    ranking = result.ranking()[:MAX_CONDITIONS]
    lines = [
        f"Triage by the chat assistant (a suggestion, not a diagnosis): {result.triage_level.replace('_', ' ')}.",
        "Fits best: " + "; ".join(result.names[c] for c in ranking) + ".",
        "Red flags: " + (", ".join(result.names.get(f, f) for f in result.red_flags) or "none") + ".",
    ]
    if result.reasons:
        lines.append("Why: " + "; ".join(r.rstrip(".") for r in result.reasons) + ".")
    lines.append("Answers: " + ", ".join(f"{k.replace('_', ' ')}: {_plain(v)}" for k, v in sorted(answers.items()))
                 + ".")
    return "\n".join(lines)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "/".join(map(str, value)) or "none"
    return str(value)
