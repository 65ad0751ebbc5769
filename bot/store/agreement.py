"""How often the assistant agrees with the clinicians who reviewed its conversations.

The population is the inbox's: assessed conversations (a triage level) started in the period, on
the channel, that a clinician reviewed (queries.REVIEWED: a correction or a confirmation; the
latest counts, and a field left "Unchanged" agrees). The clinician is the reference throughout.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.store.models import TRIAGE_LEVELS, Case
from bot.store.queries import REVIEWED, InboxFilter, apply_filter, iter_cases

KAPPA_WEIGHTS = "linear"  # a disagreement of k levels weighs k/4 of emergency against self-care
TOP = 3  # "within the assistant's top 3"


@dataclass(frozen=True)
class ConditionMisses:
    """Disagreements on the likely condition that involve one condition, from either side."""

    condition: str
    assistant_only: int  # the assistant's top condition was this one, the clinician's another
    clinician_only: int  # the clinician's was this one, the assistant's top another
    clinician_only_in_top: int  # ... of which this one was in the assistant's top 3

    @property
    def total(self) -> int:
        return self.assistant_only + self.clinician_only


@dataclass(frozen=True)
class Agreement:
    selected: InboxFilter  # the period and channel
    assessed: int
    reviewed: int
    level_agreed: int
    kappa: float | None  # None when undefined: fewer than two cases, or one level only on both sides
    confusion: tuple[tuple[int, ...], ...]  # [assistant level][clinician level], TRIAGE_LEVELS order
    condition_pairs: int  # reviewed cases where both named a condition
    top1: int
    top3: int
    conditions: tuple[ConditionMisses, ...]  # most disagreements first

    @property
    def under_triage(self) -> int:
        """Reviewed cases where the assistant's level was less urgent than the clinician's."""
        return sum(self.confusion[a][c] for a in range(len(TRIAGE_LEVELS)) for c in range(a))

    @property
    def over_triage(self) -> int:
        return sum(self.confusion[a][c] for a in range(len(TRIAGE_LEVELS)) for c in range(a + 1, len(TRIAGE_LEVELS)))


def share(part: int, whole: int) -> float | None:
    """A percentage to one decimal place, or None of nothing."""
    return round(100 * part / whole, 1) if whole else None


def weighted_kappa(assistant: list[str], clinician: list[str]) -> float | None:
    """Cohen's kappa with linear weights over the ordered levels (scikit-learn's cohen_kappa_score)."""
    if len(assistant) < 2:
        return None
    from sklearn.metrics import cohen_kappa_score  # imported here: scikit-learn takes a while to load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 when every case has the same level
        kappa = float(cohen_kappa_score(assistant, clinician, labels=list(TRIAGE_LEVELS), weights=KAPPA_WEIGHTS))
    return None if math.isnan(kappa) else round(kappa, 3)


def agreement(session: Session, selected: InboxFilter, tz: ZoneInfo) -> Agreement:
    """The figures for the filter's period and channel (its other fields are ignored)."""
    selected = InboxFilter(since=selected.since, until=selected.until, channel=selected.channel)
    assessed = session.execute(apply_filter(session, select(func.count(Case.id)), selected, tz)
                               .where(Case.triage_level.is_not(None))).scalar_one()
    levels = {level: i for i, level in enumerate(TRIAGE_LEVELS)}
    confusion = [[0] * len(TRIAGE_LEVELS) for _ in TRIAGE_LEVELS]
    assistant_levels, clinician_levels = [], []
    condition_pairs = top1 = top3 = 0
    assistant_only: Counter[str] = Counter()
    clinician_only: Counter[str] = Counter()
    in_top: Counter[str] = Counter()
    for case in iter_cases(session, replace(selected, clinician=REVIEWED), tz):
        ours, theirs = case.triage_level, case.clinician_level
        confusion[levels[ours]][levels[theirs]] += 1
        assistant_levels.append(ours)
        clinician_levels.append(theirs)
        condition = case.clinician_condition
        if case.top_condition is None or condition is None:
            continue
        condition_pairs += 1
        ranking = [c.get("id") for c in case.conditions[:TOP]]
        if condition == case.top_condition:
            top1 += 1
        else:
            assistant_only[case.top_condition] += 1
            clinician_only[condition] += 1
            in_top[condition] += condition in ranking
        top3 += condition in ranking
    misses = [ConditionMisses(cid, assistant_only[cid], clinician_only[cid], in_top[cid])
              for cid in set(assistant_only) | set(clinician_only)]
    misses.sort(key=lambda m: (-m.total, m.condition))
    return Agreement(
        selected=selected, assessed=assessed, reviewed=len(assistant_levels),
        level_agreed=sum(a == c for a, c in zip(assistant_levels, clinician_levels, strict=True)),
        kappa=weighted_kappa(assistant_levels, clinician_levels),
        confusion=tuple(tuple(row) for row in confusion), condition_pairs=condition_pairs, top1=top1, top3=top3,
        conditions=tuple(misses),
    )
