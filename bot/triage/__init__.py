"""Knee-pain triage engine: a clinician-editable knowledge base (data/*.yml) and naive Bayes scoring.

Public API (the dialogue is built against these names):
    assess(answers) -> Assessment            ranked conditions, triage level, advice, reasons
    next_question(answers) -> str | None     the next answer key, "red_flags", or None to conclude
    explain_question(key) -> str             "why do you ask?"
    prompt(key, answers) -> Prompt           question wording and quick replies
"""

from .engine import Assessment, assess
from .questions import Prompt, explain_question, next_question, prompt

__all__ = ["Assessment", "Prompt", "assess", "explain_question", "next_question", "prompt"]
