"""Naive Bayes scoring of the 17 suggestable conditions.

The model
---------
For each answer key the knowledge base gives a base distribution ``base(v)``: how common
each answer value (or band, for numbers) is among people with knee pain who contact a
physio. For each condition ``c`` a clinician gives likelihood ratios ``LR(c, v)``: how much
more or less common ``v`` is with ``c`` than in that population (default 1). From these

    P(v | c) = base(v) * LR(c, v) / sum_u base(u) * LR(c, u)

so each condition has a proper distribution over every answer, and an answer only
shifts the ranking as far as it really separates the conditions (a ratio on a value that
is common anyway moves less than the same ratio on a rare one). Then

    P(c | answers)  ∝  prior(c) * prod over answered keys k of P(answer_k | c)

with ``prior(c)`` the condition's base rate, assuming the answers are independent given the
condition (the naive Bayes assumption). Absent answers and "unknown" contribute nothing, and
neither does an answer whose ``relevant_when`` is false (the injury mechanism when there was
no injury), so a fact is not counted twice.

The multi-valued ``triggers`` answer is scored as independent present/absent features. With
``b`` the base chance a trigger applies and ``L`` its ratio, the chance it applies with ``c``
is ``p = b*L / (b*L + 1 - b)``. Patients rarely list every trigger, so a listed trigger is
seen with chance ``r * p`` and an unlisted one with ``1 - r * p`` (``r`` = report rate): a
listed trigger is full evidence (``r`` cancels), a missing one only damped evidence against.

Red-flag answers are ordinary features here too (a limp points to the hip), besides driving
the red-flag rules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .knowledge import Feature, KnowledgeBase, Label, knowledge
from .rules import evaluate
from .vocabulary import CONDITIONS, UNKNOWN


@dataclass(frozen=True)
class Observation:
    key: str
    label: Label
    present: bool = True  # False only for an unlisted trigger


@dataclass(frozen=True)
class Model:
    log_prior: tuple[float, ...]
    # P(label | c) per condition, for "values" and "bands" features
    lik: dict[str, dict[Label, tuple[float, ...]]]
    # P(trigger applies | c) per condition, and the report rate, for "items" features
    item_p: dict[str, dict[Label, tuple[float, ...]]]
    report_rate: dict[str, float]


@lru_cache(maxsize=4)
def build_model(kb: KnowledgeBase | None = None) -> Model:
    kb = kb or knowledge()
    total = sum(c.base_rate for c in kb.conditions)
    log_prior = tuple(math.log(c.base_rate / total) for c in kb.conditions)
    lik: dict[str, dict[Label, tuple[float, ...]]] = {}
    item_p: dict[str, dict[Label, tuple[float, ...]]] = {}
    rates: dict[str, float] = {}
    for key, feature in kb.features.items():
        if feature.kind == "items":
            item_p[key] = {item: tuple(_item_chance(feature, item, c.evidence.get(key, {})) for c in kb.conditions)
                           for item in feature.labels}
            rates[key] = feature.report_rate
        else:
            per_condition = [_distribution(feature, c.evidence.get(key, {})) for c in kb.conditions]
            lik[key] = {label: tuple(d[label] for d in per_condition) for label in feature.labels}
    return Model(log_prior, lik, item_p, rates)


def _distribution(feature: Feature, ratios: Mapping[Label, float]) -> dict[Label, float]:
    weights = {v: feature.base[v] * ratios.get(v, 1.0) for v in feature.labels}
    total = sum(weights.values())
    return {v: w / total for v, w in weights.items()}


def _item_chance(feature: Feature, item: Label, ratios: Mapping[Label, float]) -> float:
    weighted = feature.base[item] * ratios.get(item, 1.0)
    return weighted / (weighted + 1.0 - feature.base[item])


# --- observations -----------------------------------------------------------------------


def observations(answers: Mapping[str, Any], kb: KnowledgeBase | None = None) -> list[Observation]:
    """The evidence in normalised answers: one observation per answer (per trigger for lists)."""
    kb = kb or knowledge()
    out: list[Observation] = []
    for key, answer in answers.items():
        feature = kb.features[key]
        if answer == UNKNOWN or not relevant(feature, answers):
            continue
        if feature.kind == "items":
            listed = set(answer)
            out.extend(Observation(key, item, item in listed) for item in feature.labels)
        elif feature.kind == "bands":
            out.append(Observation(key, feature.band_of(answer)))
        else:
            out.append(Observation(key, answer))
    return out


def relevant(feature: Feature, answers: Mapping[str, Any]) -> bool:
    """False only when the feature's relevance test is known to fail."""
    return feature.relevant_when is None or evaluate(feature.relevant_when, answers).value is not False


def likelihoods(obs: Observation, model: Model) -> tuple[float, ...]:
    """P(observation | c) for every condition."""
    if obs.key in model.item_p:
        rate = model.report_rate[obs.key]
        chances = model.item_p[obs.key][obs.label]
        return tuple(rate * p if obs.present else 1.0 - rate * p for p in chances)
    return model.lik[obs.key][obs.label]


# --- posterior --------------------------------------------------------------------------


def posterior(answers: Mapping[str, Any], kb: KnowledgeBase | None = None) -> list[float]:
    """P(c | answers) for each condition, in vocabulary.CONDITIONS order."""
    kb = kb or knowledge()
    model = build_model(kb)
    logs = list(model.log_prior)
    for obs in observations(answers, kb):
        for i, p in enumerate(likelihoods(obs, model)):
            logs[i] += math.log(p)
    return _softmax(logs)


def _softmax(logs: list[float]) -> list[float]:
    top = max(logs)
    exps = [math.exp(x - top) for x in logs]
    total = sum(exps)
    return [e / total for e in exps]


def ranked(post: list[float]) -> list[tuple[str, float]]:
    """Conditions with their probabilities, most likely first (ties keep vocabulary order)."""
    return sorted(zip(CONDITIONS, post, strict=True), key=lambda pair: -pair[1])


# --- reasons ----------------------------------------------------------------------------


def support(answers: Mapping[str, Any], cid: str, kb: KnowledgeBase | None = None) -> list[tuple[float, str, str]]:
    """(strength, answer key, reason phrase) for each answer that points to `cid`, strongest first.

    Strength is P(answer | c) / base(answer): how much more common the answer is with the
    condition than in the typical knee-pain population. Unlisted triggers are not reasons.
    """
    kb = kb or knowledge()
    model = build_model(kb)
    index = CONDITIONS.index(cid)
    found: list[tuple[float, str, str]] = []
    for obs in observations(answers, kb):
        feature = kb.features[obs.key]
        phrase = feature.reasons.get(obs.label)
        if not obs.present or phrase is None:
            continue
        if feature.kind == "items":
            ratio = model.item_p[obs.key][obs.label][index] / feature.base[obs.label]
        else:
            ratio = model.lik[obs.key][obs.label][index] / feature.base[obs.label]
        found.append((ratio, obs.key, phrase))
    return sorted(found, key=lambda pair: -pair[0])


# --- information gain -------------------------------------------------------------------


def entropy(probs: list[float] | tuple[float, ...]) -> float:
    return -sum(p * math.log2(p) for p in probs if p > 0)


def information_gain(key: str, post: list[float], kb: KnowledgeBase | None = None) -> float:
    """Expected drop in the entropy (bits) of the condition posterior from asking `key`.

    Only for single-valued answers (values and bands); a list answer is not scored this way.
    """
    model = build_model(kb or knowledge())
    table = model.lik.get(key)
    if table is None:
        return 0.0
    expected = 0.0
    for chances in table.values():
        joint = [p * q for p, q in zip(post, chances, strict=True)]
        p_value = sum(joint)
        if p_value > 0:
            expected += p_value * entropy([j / p_value for j in joint])
    return entropy(post) - expected
