"""Load and validate the clinician-editable knowledge base in bot/triage/data/.

Files: conditions.yml (suggestable conditions, priors, levels, advice, likelihood ratios),
features.yml (how each answer counts as evidence: base rates, bands, reason phrases),
red_flags.yml (red-flag rules and red-flag condition texts), questions.yml (chat wording)
and engine.yml (settings and fixed texts). Every problem is reported as a KnowledgeError
naming the file and the place in it, so a clinician editing the YAML can find it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .rules import RuleError, check_when
from .vocabulary import ANSWERS, CONDITIONS, LEVELS, RED_FLAG_CHECKLIST, RED_FLAG_CONDITIONS, RED_FLAG_KEYS, UNKNOWN

DATA_DIR = Path(__file__).with_name("data")
FILES = ("conditions.yml", "features.yml", "red_flags.yml", "questions.yml", "engine.yml")
Label = str | bool  # an answer value, a band id, or a trigger item


class KnowledgeError(ValueError):
    """The knowledge base is missing, malformed or inconsistent."""


# --- the model --------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    id: str
    up_to: float
    base: float
    reason: str | None


@dataclass(frozen=True)
class Feature:
    """One answer seen as evidence. kind: "values" (categorical/bool), "bands" (numbers), "items" (triggers)."""

    key: str
    kind: str
    labels: tuple[Label, ...]
    base: dict[Label, float]
    reasons: dict[Label, str]
    bands: tuple[Band, ...] = ()
    report_rate: float = 1.0
    relevant_when: Mapping | None = None

    def band_of(self, number: float) -> str:
        for band in self.bands:
            if number <= band.up_to:
                return band.id
        return self.bands[-1].id


@dataclass(frozen=True)
class LevelRule:
    when: Mapping
    level: str


@dataclass(frozen=True)
class Advice:
    """A self-care item; `when` (rule language) limits it to the answers it fits."""

    text: str
    when: Mapping | None = None


@dataclass(frozen=True)
class Condition:
    id: str
    name: str
    base_rate: float
    level: str
    level_rules: tuple[LevelRule, ...]
    explanation: str
    advice: tuple[Advice, ...]
    evidence: dict[str, dict[Label, float]]
    how_soon: str | None = None  # replaces the level's "how soon" text when this condition sets the level


@dataclass(frozen=True)
class RedFlagRule:
    id: str
    when: Mapping
    level: str
    condition: str | None
    points_to: tuple[str, ...]
    overrides: tuple[str, ...]
    if_unsure: str  # "fire" | "wait"
    instruction: str
    reason: str


@dataclass(frozen=True)
class RedFlagCondition:
    id: str
    name: str
    instruction: str


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    buttons: tuple[tuple[str, Any], ...]
    why: str
    multiple: bool = False
    items: dict[str, str] = field(default_factory=dict)  # red-flag checklist only
    none_text: str = ""
    yes_means: bool = True  # what a plain "yes" answers to a yes/no question
    item_buttons: dict[str, str] = field(default_factory=dict)  # checklist only: quick-reply title per sign


@dataclass(frozen=True)
class Settings:
    stop_probability: float
    question_budget: int
    min_information_gain: float
    always_ask: tuple[str, ...]
    competing_ratio: float
    max_reasons: int
    reason_min_ratio: float
    score_decimals: int
    default_emergency_number: str


@dataclass(frozen=True)
class ReadBack:
    """The wording of the read-back before the result (engine.yml read_back)."""

    keys: tuple[str, ...]
    intro: str
    no_flags: str
    question: str
    right: str
    wrong: str
    correct: str


@dataclass(frozen=True, eq=False)  # compared and hashed by identity, so it can key caches
class KnowledgeBase:
    conditions: tuple[Condition, ...]  # in vocabulary.CONDITIONS order
    features: dict[str, Feature]
    rules: tuple[RedFlagRule, ...]
    red_flag_conditions: dict[str, RedFlagCondition]
    questions: dict[str, Question]
    settings: Settings
    safety_nets: dict[str, str]  # per level: what to watch for and when to seek help
    level_texts: dict[str, str]
    until_seen: str  # replaces self-care advice at urgent and emergency levels
    safety_net_extras: tuple[Advice, ...]  # added to the safety net when their `when` holds
    read_back: ReadBack

    def condition(self, cid: str) -> Condition:
        return self.conditions[CONDITIONS.index(cid)]

    def name_of(self, cid: str) -> str:
        if cid in self.red_flag_conditions:
            return self.red_flag_conditions[cid].name
        return self.condition(cid).name


# --- loading ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def knowledge() -> KnowledgeBase:
    """The knowledge base shipped with the engine, loaded once."""
    return load_knowledge(DATA_DIR)


def load_knowledge(directory: Path | str = DATA_DIR) -> KnowledgeBase:
    directory = Path(directory)
    raw = {name: _read(directory / name) for name in FILES}
    features = _features(raw["features.yml"])
    engine = _mapping(raw["engine.yml"], "engine.yml")
    rfc = _red_flag_conditions(raw["red_flags.yml"])
    return KnowledgeBase(
        conditions=_conditions(raw["conditions.yml"], features),
        features=features,
        rules=_rules(raw["red_flags.yml"], rfc),
        red_flag_conditions=rfc,
        questions=_questions(raw["questions.yml"]),
        settings=_settings(engine),
        safety_nets=_per_level(engine, "safety_nets"),
        level_texts=_per_level(engine, "level_texts"),
        until_seen=_text(engine, "until_seen", "engine.yml"),
        safety_net_extras=_advice_list(engine.get("safety_net_extras") or [], "engine.yml: safety_net_extras"),
        read_back=_read_back(engine),
    )


def _read(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise KnowledgeError(f"{path.name}: file not found in {path.parent}") from None
    except yaml.YAMLError as err:
        raise KnowledgeError(f"{path.name}: not valid YAML: {err}") from None


# --- small checkers ---------------------------------------------------------------------


def _mapping(value: Any, where: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise KnowledgeError(f"{where}: expected a mapping (key: value lines)")
    return value


def _per_level(engine: Mapping, key: str) -> dict[str, str]:
    where = f"engine.yml: {key}"
    block = _mapping(engine.get(key), where)
    return {level: _text(block, level, where) for level in LEVELS}


def _text(block: Mapping, key: str, where: str) -> str:
    value = block.get(key)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(f"{where}: '{key}' must be a non-empty text")
    return " ".join(value.split())


def _number(value: Any, where: str, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise KnowledgeError(f"{where}: expected a number, got {value!r}")
    if positive and value <= 0:
        raise KnowledgeError(f"{where}: must be greater than 0, got {value!r}")
    return float(value)


def _level(value: Any, where: str) -> str:
    if value not in LEVELS:
        raise KnowledgeError(f"{where}: unknown triage level {value!r} (expected one of {', '.join(LEVELS)})")
    return value


def _when(value: Any, where: str) -> Mapping:
    try:
        check_when(value)
    except RuleError as err:
        raise KnowledgeError(f"{where}: {err}") from None
    return value


def _unknown_fields(block: Mapping, allowed: set[str], where: str) -> None:
    extra = sorted(str(k) for k in block if k not in allowed)
    if extra:
        raise KnowledgeError(f"{where}: unknown field(s) {', '.join(extra)} (allowed: {', '.join(sorted(allowed))})")


# --- features.yml -----------------------------------------------------------------------


def _features(raw: Any) -> dict[str, Feature]:
    block = _mapping(raw, "features.yml")
    evidence_keys = [k for k in ANSWERS]
    for key in block:
        if key not in ANSWERS:
            raise KnowledgeError(f"features.yml: unknown answer key {key!r}")
    missing = [k for k in evidence_keys if k not in block]
    if missing:
        raise KnowledgeError(f"features.yml: no entry for answer(s) {', '.join(missing)}")
    return {key: _feature(key, _mapping(block[key], f"features.yml: {key}")) for key in evidence_keys}


def _feature(key: str, block: Mapping) -> Feature:
    where = f"features.yml: {key}"
    spec = ANSWERS[key]
    _unknown_fields(block, {"values", "bands", "items", "report_rate", "relevant_when"}, where)
    relevant = _when(block["relevant_when"], f"{where}.relevant_when") if "relevant_when" in block else None
    if spec.kind in ("int", "number"):
        return _banded(key, block, where, relevant)
    if spec.kind == "list":
        items = _mapping(block.get("items"), f"{where}.items")
        labels = tuple(spec.values)
        base, reasons = _labelled(items, labels, where + ".items", exhaustive=True)
        if any(b >= 1 for b in base.values()):
            raise KnowledgeError(f"{where}.items: each base is a chance below 1")
        rate = _number(block.get("report_rate"), f"{where}.report_rate")
        if rate > 1:
            raise KnowledgeError(f"{where}.report_rate: must be at most 1")
        return Feature(key, "items", labels, base, reasons, report_rate=rate, relevant_when=relevant)
    labels = (True, False) if spec.kind == "bool" else tuple(spec.values)
    values = _mapping(block.get("values"), f"{where}.values")
    base, reasons = _labelled(values, labels, where + ".values", exhaustive=True)
    return Feature(key, "values", labels, _normalised(base), reasons, relevant_when=relevant)


def _banded(key: str, block: Mapping, where: str, relevant: Mapping | None) -> Feature:
    bands_raw = _mapping(block.get("bands"), f"{where}.bands")
    bands: list[Band] = []
    for band_id, body in bands_raw.items():
        body = _mapping(body, f"{where}.bands.{band_id}")
        _unknown_fields(body, {"up_to", "base", "reason"}, f"{where}.bands.{band_id}")
        up_to = _number(body.get("up_to"), f"{where}.bands.{band_id}.up_to", positive=False)
        if bands and up_to <= bands[-1].up_to:
            raise KnowledgeError(f"{where}.bands.{band_id}: up_to must be larger than the band before")
        reason = body.get("reason")
        bands.append(Band(str(band_id), up_to, _number(body.get("base"), f"{where}.bands.{band_id}.base"),
                          " ".join(reason.split()) if isinstance(reason, str) else None))
    if not bands:
        raise KnowledgeError(f"{where}.bands: at least one band is needed")
    top = ANSWERS[key].maximum
    if top is not None and bands[-1].up_to < top:
        raise KnowledgeError(f"{where}.bands: the last band must reach {top:g}")
    base = _normalised({b.id: b.base for b in bands})
    reasons = {b.id: b.reason for b in bands if b.reason}
    return Feature(key, "bands", tuple(b.id for b in bands), base, reasons, bands=tuple(bands), relevant_when=relevant)


def _labelled(block: Mapping, labels: tuple[Label, ...], where: str, *, exhaustive: bool) -> tuple[dict, dict]:
    base: dict[Label, float] = {}
    reasons: dict[Label, str] = {}
    for label, body in block.items():
        if label not in labels or isinstance(label, bool) != isinstance(labels[0], bool):
            raise KnowledgeError(f"{where}: unknown value {label!r} (expected one of {_show(labels)})")
        body = _mapping(body, f"{where}.{label}")
        _unknown_fields(body, {"base", "reason"}, f"{where}.{label}")
        base[label] = _number(body.get("base"), f"{where}.{label}.base")
        if body.get("reason") is not None:
            reasons[label] = _text(body, "reason", f"{where}.{label}")
    if exhaustive and len(base) != len(labels):
        missing = [lb for lb in labels if lb not in base]
        raise KnowledgeError(f"{where}: no base rate for {_show(tuple(missing))}")
    return base, reasons


def _normalised(weights: dict[Label, float]) -> dict[Label, float]:
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


def _show(labels: tuple[Label, ...]) -> str:
    return ", ".join(str(lb).lower() if isinstance(lb, bool) else str(lb) for lb in labels)


# --- conditions.yml ---------------------------------------------------------------------


def _conditions(raw: Any, features: dict[str, Feature]) -> tuple[Condition, ...]:
    block = _mapping(raw, "conditions.yml")
    for cid in block:
        if cid not in CONDITIONS:
            raise KnowledgeError(f"conditions.yml: unknown condition id {cid!r} (see shared/spec/triage.md section 2)")
    missing = [c for c in CONDITIONS if c not in block]
    if missing:
        raise KnowledgeError(f"conditions.yml: missing condition(s) {', '.join(missing)}")
    return tuple(_condition(cid, _mapping(block[cid], f"conditions.yml: {cid}"), features) for cid in CONDITIONS)


def _condition(cid: str, block: Mapping, features: dict[str, Feature]) -> Condition:
    where = f"conditions.yml: {cid}"
    _unknown_fields(block, {"name", "base_rate", "level", "level_rules", "explanation", "advice", "evidence",
                            "how_soon"}, where)
    advice = _advice_list(block.get("advice"), f"{where}.advice")
    if not advice:
        raise KnowledgeError(f"{where}.advice: must be a list of at least one text")
    rules = []
    for i, rule in enumerate(block.get("level_rules") or []):
        rule = _mapping(rule, f"{where}.level_rules[{i}]")
        _unknown_fields(rule, {"when", "level"}, f"{where}.level_rules[{i}]")
        rules.append(LevelRule(_when(rule.get("when"), f"{where}.level_rules[{i}].when"),
                               _level(rule.get("level"), f"{where}.level_rules[{i}].level")))
    return Condition(
        id=cid,
        name=_text(block, "name", where),
        base_rate=_number(block.get("base_rate"), f"{where}.base_rate"),
        level=_level(block.get("level"), f"{where}.level"),
        level_rules=tuple(rules),
        explanation=_text(block, "explanation", where),
        advice=advice,
        evidence=_evidence(block.get("evidence") or {}, features, f"{where}.evidence"),
        how_soon=_text(block, "how_soon", where) if "how_soon" in block else None,
    )


def _advice_list(raw: Any, where: str) -> tuple[Advice, ...]:
    """Texts, each either plain or `{text: ..., when: ...}`."""
    if not isinstance(raw, list):
        raise KnowledgeError(f"{where}: must be a list of texts")
    out = []
    for i, item in enumerate(raw):
        if isinstance(item, str) and item.strip():
            out.append(Advice(" ".join(item.split())))
            continue
        item = _mapping(item, f"{where}[{i}]")
        _unknown_fields(item, {"text", "when"}, f"{where}[{i}]")
        out.append(Advice(_text(item, "text", f"{where}[{i}]"), _when(item.get("when"), f"{where}[{i}].when")))
    return tuple(out)


def _evidence(block: Any, features: dict[str, Feature], where: str) -> dict[str, dict[Label, float]]:
    block = _mapping(block, where)
    out: dict[str, dict[Label, float]] = {}
    for key, ratios in block.items():
        if key not in features:
            raise KnowledgeError(f"{where}: unknown answer key {key!r}")
        feature = features[key]
        ratios = _mapping(ratios, f"{where}.{key}")
        out[key] = {}
        for label, ratio in ratios.items():
            if label not in feature.labels or isinstance(label, bool) != isinstance(feature.labels[0], bool):
                raise KnowledgeError(f"{where}.{key}: unknown value {label!r} "
                                     f"(expected one of {_show(feature.labels)})")
            out[key][label] = _number(ratio, f"{where}.{key}.{label}")
    return out


# --- red_flags.yml ----------------------------------------------------------------------


def _red_flag_conditions(raw: Any) -> dict[str, RedFlagCondition]:
    block = _mapping(_mapping(raw, "red_flags.yml").get("red_flag_conditions"), "red_flags.yml: red_flag_conditions")
    for cid in block:
        if cid not in RED_FLAG_CONDITIONS:
            raise KnowledgeError(f"red_flags.yml: red_flag_conditions: unknown red-flag condition {cid!r}")
    missing = [c for c in RED_FLAG_CONDITIONS if c not in block]
    if missing:
        raise KnowledgeError(f"red_flags.yml: red_flag_conditions: missing {', '.join(missing)}")
    out = {}
    for cid in RED_FLAG_CONDITIONS:
        body = _mapping(block[cid], f"red_flags.yml: red_flag_conditions.{cid}")
        where = f"red_flags.yml: red_flag_conditions.{cid}"
        _unknown_fields(body, {"name", "instruction"}, where)
        out[cid] = RedFlagCondition(cid, _text(body, "name", where), _text(body, "instruction", where))
    return out


def _rules(raw: Any, rfc: dict[str, RedFlagCondition]) -> tuple[RedFlagRule, ...]:
    rules_raw = _mapping(raw, "red_flags.yml").get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise KnowledgeError("red_flags.yml: 'rules' must be a non-empty list")
    rules = [_rule(i, r, rfc) for i, r in enumerate(rules_raw)]
    ids = [r.id for r in rules]
    for rule in rules:
        if ids.count(rule.id) > 1:
            raise KnowledgeError(f"red_flags.yml: rule id {rule.id!r} is used twice")
        for other in rule.overrides:
            if other not in ids or other == rule.id:
                raise KnowledgeError(f"red_flags.yml: rule {rule.id}: overrides unknown rule {other!r}")
    return tuple(rules)


def _rule(i: int, body: Any, rfc: dict[str, RedFlagCondition]) -> RedFlagRule:
    body = _mapping(body, f"red_flags.yml: rules[{i}]")
    rid = body.get("id")
    if not isinstance(rid, str) or not rid:
        raise KnowledgeError(f"red_flags.yml: rules[{i}]: every rule needs an 'id'")
    where = f"red_flags.yml: rule {rid}"
    _unknown_fields(body, {"id", "when", "level", "condition", "points_to", "overrides", "if_unsure",
                           "instruction", "reason"}, where)
    condition = body.get("condition")
    if condition is not None and condition not in RED_FLAG_CONDITIONS:
        raise KnowledgeError(f"{where}: unknown red-flag condition {condition!r} "
                             f"(expected one of {', '.join(RED_FLAG_CONDITIONS)})")
    points_to = tuple(body.get("points_to") or ())
    for cid in points_to:
        if cid not in CONDITIONS:
            raise KnowledgeError(f"{where}.points_to: unknown condition {cid!r}")
    if body.get("instruction") is None and condition is None:
        raise KnowledgeError(f"{where}: a rule without a red-flag condition needs its own 'instruction'")
    own = body.get("instruction") is not None
    instruction = _text(body, "instruction", where) if own else rfc[condition].instruction
    if_unsure = body.get("if_unsure", "fire")
    if if_unsure not in ("fire", "wait"):
        raise KnowledgeError(f"{where}.if_unsure: must be fire or wait, got {if_unsure!r}")
    return RedFlagRule(
        id=rid,
        when=_when(body.get("when"), f"{where}.when"),
        level=_level(body.get("level"), f"{where}.level"),
        condition=condition,
        points_to=points_to,
        overrides=tuple(body.get("overrides") or ()),
        if_unsure=if_unsure,
        instruction=instruction,
        reason=_text(body, "reason", where),
    )


# --- questions.yml and engine.yml -------------------------------------------------------


def _questions(raw: Any) -> dict[str, Question]:
    block = _mapping(raw, "questions.yml")
    wanted = list(ANSWERS) + [RED_FLAG_CHECKLIST]
    for key in block:
        if key not in wanted:
            raise KnowledgeError(f"questions.yml: unknown question {key!r}")
    missing = [k for k in wanted if k not in block]
    if missing:
        raise KnowledgeError(f"questions.yml: no wording for {', '.join(missing)}")
    return {key: _question(key, _mapping(block[key], f"questions.yml: {key}")) for key in wanted}


def _question(key: str, block: Mapping) -> Question:
    where = f"questions.yml: {key}"
    _unknown_fields(block, {"text", "buttons", "why", "multiple", "items", "none", "yes_means", "item_buttons"}, where)
    yes_means = block.get("yes_means", True)
    if not isinstance(yes_means, bool) or (not yes_means and ANSWERS.get(key, ANSWERS["age"]).kind != "bool"):
        raise KnowledgeError(f"{where}.yes_means: true or false, and only on a yes/no question")
    buttons = []
    for i, button in enumerate(block.get("buttons") or []):
        button = _mapping(button, f"{where}.buttons[{i}]")
        title, value = button.get("title"), button.get("value")
        if not isinstance(title, str) or not title:
            raise KnowledgeError(f"{where}.buttons[{i}]: needs a title")
        _check_button_value(key, value, f"{where}.buttons[{i}]")
        buttons.append((title, value))
    items: dict[str, str] = {}
    item_buttons: dict[str, str] = {}
    none_text = ""
    if key == RED_FLAG_CHECKLIST:
        raw_items = _mapping(block.get("items"), f"{where}.items")
        missing = [k for k in RED_FLAG_KEYS if k not in raw_items]
        if missing or any(k not in RED_FLAG_KEYS for k in raw_items):
            raise KnowledgeError(f"{where}.items: must word exactly the red flags {', '.join(RED_FLAG_KEYS)}")
        items = {k: _text(raw_items, k, f"{where}.items") for k in RED_FLAG_KEYS}
        none_text = _text(block, "none", where)
        raw_titles = _mapping(block.get("item_buttons"), f"{where}.item_buttons")
        if set(raw_titles) != set(RED_FLAG_KEYS):
            raise KnowledgeError(f"{where}.item_buttons: must title exactly the red flags {', '.join(RED_FLAG_KEYS)}")
        item_buttons = {k: _text(raw_titles, k, f"{where}.item_buttons") for k in RED_FLAG_KEYS}
        if any(len(title) > 20 for title in item_buttons.values()):
            raise KnowledgeError(f"{where}.item_buttons: a title has at most 20 characters (Messenger's limit)")
    return Question(key, _text(block, "text", where), tuple(buttons), _text(block, "why", where),
                    bool(block.get("multiple", False)), items, none_text, yes_means, item_buttons)


def _check_button_value(key: str, value: Any, where: str) -> None:
    if key == RED_FLAG_CHECKLIST:
        if value not in RED_FLAG_KEYS and value != "none":
            raise KnowledgeError(f"{where}: value must be a red-flag key or none, got {value!r}")
        return
    spec = ANSWERS[key]
    if value == UNKNOWN:
        return
    ok = {
        "bool": isinstance(value, bool),
        "cat": value in spec.values,
        "list": value in spec.values,
    }.get(spec.kind, isinstance(value, (int, float)) and not isinstance(value, bool))
    if not ok:
        raise KnowledgeError(f"{where}: {value!r} is not a valid answer for {key}")


def _read_back(engine: Mapping) -> ReadBack:
    where = "engine.yml: read_back"
    block = _mapping(engine.get("read_back"), where)
    _unknown_fields(block, set(ReadBack.__dataclass_fields__), where)
    keys = block.get("keys")
    if not isinstance(keys, list) or not keys or any(k not in ANSWERS or k in RED_FLAG_KEYS for k in keys):
        raise KnowledgeError(f"{where}.keys: must list section-1 answer keys (not red flags)")
    texts = {name: _text(block, name, where) for name in ReadBack.__dataclass_fields__ if name != "keys"}
    return ReadBack(keys=tuple(keys), **texts)


def _settings(engine: Mapping) -> Settings:
    block = _mapping(engine.get("settings"), "engine.yml: settings")
    where = "engine.yml: settings"
    _unknown_fields(block, set(Settings.__dataclass_fields__), where)
    always = block.get("always_ask")
    if not isinstance(always, list) or any(k not in ANSWERS or k in RED_FLAG_KEYS for k in always):
        raise KnowledgeError(f"{where}.always_ask: must list section-1 answer keys (not red flags)")
    stop = _number(block.get("stop_probability"), f"{where}.stop_probability")
    if stop > 1:
        raise KnowledgeError(f"{where}.stop_probability: must be at most 1")
    budget = block.get("question_budget")
    if not isinstance(budget, int) or isinstance(budget, bool) or budget < len(always) + 1:
        raise KnowledgeError(f"{where}.question_budget: must be a whole number of at least "
                             f"{len(always) + 1} (the always-asked questions plus the red-flag checklist)")
    return Settings(
        stop_probability=stop,
        question_budget=budget,
        min_information_gain=_number(block.get("min_information_gain"), f"{where}.min_information_gain",
                                     positive=False),
        always_ask=tuple(always),
        competing_ratio=_number(block.get("competing_ratio"), f"{where}.competing_ratio"),
        max_reasons=int(_number(block.get("max_reasons"), f"{where}.max_reasons")),
        reason_min_ratio=_number(block.get("reason_min_ratio"), f"{where}.reason_min_ratio"),
        score_decimals=int(_number(block.get("score_decimals"), f"{where}.score_decimals")),
        default_emergency_number=str(block.get("default_emergency_number") or "999"),
    )
