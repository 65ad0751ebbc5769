"""Loading and validating the clinician-editable knowledge base (bot/triage/data/*.yml)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.triage.knowledge import DATA_DIR, KnowledgeError, knowledge, load_knowledge  # noqa: E402
from bot.triage.vocabulary import ANSWERS, CONDITIONS, LEVELS, RED_FLAG_CONDITIONS  # noqa: E402


def test_shipped_knowledge_base_is_complete():
    kb = knowledge()
    assert [c.id for c in kb.conditions] == list(CONDITIONS)
    assert set(kb.red_flag_conditions) == set(RED_FLAG_CONDITIONS)
    assert set(kb.features) == set(ANSWERS)
    assert set(kb.level_texts) == set(LEVELS)
    for c in kb.conditions:
        assert c.name and c.explanation and 3 <= len(c.advice) <= 5, c.id
        assert c.base_rate > 0 and c.level in LEVELS
    assert knowledge() is kb  # loaded once


def test_base_distributions_are_normalised():
    for feature in knowledge().features.values():
        if feature.kind != "items":
            assert sum(feature.base.values()) == pytest.approx(1.0), feature.key


def test_every_spec_red_flag_condition_has_a_rule():
    raised = {r.condition for r in knowledge().rules}
    assert set(RED_FLAG_CONDITIONS) <= raised


Edit = Callable[[dict], None]


def broken(tmp_path: Path, name: str, edit: Edit) -> Path:
    """A copy of the data directory with one file changed by `edit`."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    path = target / name
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return target


def test_copy_of_the_data_loads(tmp_path):
    load_knowledge(broken(tmp_path, "engine.yml", lambda doc: None))


@pytest.mark.parametrize("name,edit,message", [
    ("conditions.yml", lambda d: d.pop("bakers_cyst"), "missing condition(s) bakers_cyst"),
    ("conditions.yml", lambda d: d.update(flu={}), "unknown condition id 'flu'"),
    ("conditions.yml", lambda d: d["itb_syndrome"]["evidence"]["pain_location"].update(sideways=3),
     "itb_syndrome.evidence.pain_location: unknown value 'sideways'"),
    ("conditions.yml", lambda d: d["itb_syndrome"]["evidence"].update(shoe_size={"big": 2}),
     "unknown answer key 'shoe_size'"),
    ("conditions.yml", lambda d: d["itb_syndrome"]["evidence"]["onset"].update(gradual=-1),
     "itb_syndrome.evidence.onset.gradual: must be greater than 0"),
    ("conditions.yml", lambda d: d["itb_syndrome"]["evidence"]["age"].update(growing=2), "unknown value 'growing'"),
    ("conditions.yml", lambda d: d["itb_syndrome"].update(level="asap"), "unknown triage level 'asap'"),
    ("conditions.yml", lambda d: d["itb_syndrome"]["level_rules"][0].update(when={"pain": {"max": 4}}),
     "itb_syndrome.level_rules[0].when: unknown answer key or combinator 'pain'"),
    ("conditions.yml", lambda d: d["itb_syndrome"].update(advice=[]), "itb_syndrome.advice"),
    ("conditions.yml", lambda d: d["itb_syndrome"].update(base_rate="often"), "base_rate: expected a number"),
    ("conditions.yml", lambda d: d["itb_syndrome"].update(colour="red"), "unknown field(s) colour"),
    ("features.yml", lambda d: d["age"]["bands"]["teen"].update(up_to=5), "up_to must be larger"),
    ("features.yml", lambda d: d["age"]["bands"]["older"].update(up_to=90), "the last band must reach 100"),
    ("features.yml", lambda d: d["swelling"]["values"].pop("rapid"), "no base rate for rapid"),
    ("features.yml", lambda d: d.pop("clicking"), "no entry for answer(s) clicking"),
    ("features.yml", lambda d: d["triggers"]["items"]["stairs"].update(base=1.5), "each base is a chance below 1"),
    ("features.yml", lambda d: d["heard_pop"].update(relevant_when={"onset": "sudden"}), "bad value 'sudden'"),
    ("red_flags.yml", lambda d: d["rules"][0]["when"].update(hot_red_joint="very"), "rule septic_hot_fever.when"),
    ("red_flags.yml", lambda d: d["rules"][0].update(condition="gout"), "unknown red-flag condition 'gout'"),
    ("red_flags.yml", lambda d: d["rules"][0].update(overrides=["nothing"]), "overrides unknown rule 'nothing'"),
    ("red_flags.yml", lambda d: d["rules"].append(dict(d["rules"][0])), "is used twice"),
    ("red_flags.yml", lambda d: d["rules"][0].pop("condition"), "needs its own 'instruction'"),
    ("red_flags.yml", lambda d: d["rules"][0].update(level="later"), "unknown triage level 'later'"),
    ("red_flags.yml", lambda d: d["rules"][0].update(if_unsure="maybe"), "must be fire or wait"),
    ("red_flags.yml", lambda d: d["red_flag_conditions"].pop("dvt"), "missing dvt"),
    ("questions.yml", lambda d: d.pop("swelling"), "no wording for swelling"),
    ("questions.yml", lambda d: d["swelling"]["buttons"].append({"title": "Huge", "value": "huge"}),
     "'huge' is not a valid answer for swelling"),
    ("questions.yml", lambda d: d["red_flags"]["items"].pop("deformity"), "must word exactly the red flags"),
    ("engine.yml", lambda d: d["settings"].update(always_ask=["onset", "fever_unwell"]), "always_ask"),
    ("engine.yml", lambda d: d["settings"].update(question_budget=3), "question_budget"),
    ("engine.yml", lambda d: d["settings"].update(stop_probability=2), "stop_probability: must be at most 1"),
    ("engine.yml", lambda d: d["level_texts"].pop("soon"), "'soon' must be a non-empty text"),
])
def test_validation_errors_name_the_file_and_place(tmp_path, name, edit, message):
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(broken(tmp_path, name, edit))
    assert str(err.value).startswith(name)
    assert message in str(err.value)


def test_invalid_yaml(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    (target / "conditions.yml").write_text("itb_syndrome: [unclosed\n")
    with pytest.raises(KnowledgeError, match="conditions.yml: not valid YAML"):
        load_knowledge(target)


def test_missing_file(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    (target / "red_flags.yml").unlink()
    with pytest.raises(KnowledgeError, match="red_flags.yml: file not found"):
        load_knowledge(target)
