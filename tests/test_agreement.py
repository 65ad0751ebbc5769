"""Agreement between the assistant and the clinicians' corrections, against figures worked out by hand.

Real SQLite and PostgreSQL (each test runs on both). The seeded set, channel "rest", this week:

    case  assistant level / ranking         clinician's latest word        level        condition
    a1    routine   pfp, itb, pt            agrees (routine, pfp)          same         same
    a2    routine   pfp, itb, pt            soon, condition unchanged      under        same
    a3    soon      meniscal, acl, mcl      level unchanged, acl           same         acl in top 3
    a4    urgent    acl, meniscal, mcl      soon, meniscal                 over         meniscal in top 3
    a5    self_care pfp, itb, pt            routine, meniscal              under        meniscal not in top 3
    a6    emergency fracture, acl           emergency, unchanged           same         same
    a7    routine   itb, pfp, pt            (urgent, acl) then (routine, pfp): the latest counts
    a8    urgent    dvt, bakers             urgent, bakers                 same         bakers in top 3
    a9, a10: assessed, not reviewed. Left out: another channel, a case two months old, an unassessed one.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store import record_case, session_scope
from bot.store.agreement import agreement, weighted_kappa
from bot.store.cases import add_correction
from bot.store.models import Case
from bot.store.queries import (
    CONDITION_DIFFERS,
    LEVEL_DIFFERS,
    REVIEWED,
    UNDER_TRIAGE,
    InboxFilter,
    count,
    inbox_page,
)
from bot.triage.vocabulary import CONDITIONS, RED_FLAG_CONDITIONS

pytest_plugins = ["tests.console.fixtures"]
TZ = ZoneInfo("Europe/London")
ALL = (*CONDITIONS, *RED_FLAG_CONDITIONS)
PFP, ITB, PT = "patellofemoral_pain", "itb_syndrome", "patellar_tendinopathy"
MENISCUS, ACL, MCL = "meniscal_tear", "acl_injury", "collateral_ligament_sprain"

# id: (assistant level, ranking, [corrections as (level, condition), oldest first], channel)
SEEDED: dict[str, tuple[str | None, list[str], list[tuple[str | None, str | None]], str]] = {
    "a1": ("routine", [PFP, ITB, PT], [("routine", PFP)], "rest"),
    "a2": ("routine", [PFP, ITB, PT], [("soon", None)], "rest"),
    "a3": ("soon", [MENISCUS, ACL, MCL], [(None, ACL)], "rest"),
    "a4": ("urgent", [ACL, MENISCUS, MCL], [("soon", MENISCUS)], "rest"),
    "a5": ("self_care", [PFP, ITB, PT], [("routine", MENISCUS)], "rest"),
    "a6": ("emergency", ["fracture", ACL], [("emergency", None)], "rest"),
    "a7": ("routine", [ITB, PFP, PT], [("urgent", ACL), ("routine", PFP)], "rest"),
    "a8": ("urgent", ["dvt", "bakers_cyst"], [("urgent", "bakers_cyst")], "rest"),
    "a9": ("routine", [PFP, ITB], [], "rest"),
    "a10": ("soon", [MENISCUS], [], "rest"),
    "other-channel": ("routine", [PFP, ITB], [("emergency", "fracture")], "whatsapp"),
    "two-months-old": ("routine", [PFP, ITB], [("urgent", ACL)], "rest"),
    "not-assessed": (None, [PFP], [("soon", PFP)], "rest"),
}


def seed_corrections(url: str) -> None:
    with session_scope(url) as session:
        for sender, (level, ranking, corrections, channel) in SEEDED.items():
            flags = [c for c in ranking if c in RED_FLAG_CONDITIONS]
            case = record_case(session, conversation_id=sender, channel=channel, answers={"pain_location": "front"},
                               conditions=[(cid, 0.9 - i / 10) for i, cid in enumerate(ranking)], triage_level=level,
                               red_flags=flags, advice=[], reasons=[])
            for fix_level, fix_condition in corrections:
                add_correction(session, case, "dr_lee", triage_level=fix_level, condition=fix_condition,
                               comment="", conditions=ALL)
            if sender == "two-months-old":
                case.started_at -= timedelta(days=60)


def this_week(**kwargs: object) -> InboxFilter:
    today = date.today()
    return InboxFilter(since=today - timedelta(days=6), until=today + timedelta(days=1), **kwargs)


def senders(session: Session, f: InboxFilter) -> set[str]:
    assert count(session, f, TZ) == len(cases := inbox_page(session, f, TZ, limit=100).cases)
    return {c.conversation_id for c in cases}


def test_agreement_figures_match_the_hand_count(db_url: str) -> None:
    seed_corrections(db_url)
    with session_scope(db_url) as session:
        figures = agreement(session, this_week(channel="rest"), TZ)
    assert (figures.assessed, figures.reviewed) == (10, 8)
    assert figures.level_agreed == 5  # a1 a3 a6 a7 a8
    assert (figures.under_triage, figures.over_triage) == (2, 1)  # a2 a5; a4
    # Linear weights |i - j| over emergency=0 .. self_care=4. Assistant levels 3 3 2 1 4 0 3 1, clinician
    # 3 2 2 2 3 0 3 1: observed weighted disagreement 3 (a2, a4, a5 one level each). Expected, from the
    # margins (assistant 1 2 1 3 1, clinician 1 1 3 3 0): sum of a_i * c_j * |i - j| / n = 82 / 8 = 10.25.
    assert figures.kappa == pytest.approx(1 - 3 / 10.25, abs=0.0005)  # 0.707
    assert figures.confusion == (
        (1, 0, 0, 0, 0),  # emergency: a6
        (0, 1, 1, 0, 0),  # urgent: a8 same, a4 clinician soon
        (0, 0, 1, 0, 0),  # soon: a3
        (0, 0, 1, 2, 0),  # routine: a2 clinician soon; a1 a7
        (0, 0, 0, 1, 0),  # self-care: a5 clinician routine
    )
    assert (figures.condition_pairs, figures.top1, figures.top3) == (8, 3, 7)  # top 1: a1 a2 a6; a5 misses top 3
    by_condition = [(m.condition, m.total, m.assistant_only, m.clinician_only, m.clinician_only_in_top)
                    for m in figures.conditions]
    assert by_condition == [
        (MENISCUS, 3, 1, 2, 1),  # the assistant's on a3; the clinician's on a4 (in top 3) and a5 (not)
        (ACL, 2, 1, 1, 1),  # a4; a3
        (PFP, 2, 1, 1, 1),  # a5; a7
        ("bakers_cyst", 1, 0, 1, 1),  # a8
        ("dvt", 1, 1, 0, 0),  # a8
        (ITB, 1, 1, 0, 0),  # a7
    ]


def test_period_and_channel_choose_the_conversations(db_url: str) -> None:
    seed_corrections(db_url)
    with session_scope(db_url) as session:
        every_channel = agreement(session, this_week(), TZ)
        assert (every_channel.assessed, every_channel.reviewed, every_channel.level_agreed) == (11, 9, 5)
        assert every_channel.confusion[3][0] == 1  # the WhatsApp case: routine against emergency
        whatsapp = agreement(session, this_week(channel="whatsapp"), TZ)
        assert (whatsapp.reviewed, whatsapp.under_triage) == (1, 1)
        assert whatsapp.kappa is None  # one case: kappa is not defined
        today = date.today()
        older = agreement(session, InboxFilter(since=today - timedelta(days=70), until=today - timedelta(days=50),
                                               channel="rest"), TZ)
        assert (older.assessed, older.reviewed, older.level_agreed) == (1, 1, 0)
        empty = agreement(session, InboxFilter(since=today - timedelta(days=400), until=today - timedelta(days=300)),
                          TZ)
        assert (empty.assessed, empty.reviewed, empty.kappa, empty.conditions) == (0, 0, None, ())


def test_the_inbox_filters_find_the_cases_behind_each_figure(db_url: str) -> None:
    """The dashboard's links go to the inbox filtered: the inbox must list exactly the counted cases."""
    seed_corrections(db_url)
    with session_scope(db_url) as session:
        rest = {"channel": "rest"}
        assert senders(session, this_week(clinician=REVIEWED, **rest)) == {f"a{i}" for i in range(1, 9)}
        assert senders(session, this_week(clinician=LEVEL_DIFFERS, **rest)) == {"a2", "a4", "a5"}
        assert senders(session, this_week(clinician=UNDER_TRIAGE, **rest)) == {"a2", "a5"}
        assert senders(session, this_week(clinician=CONDITION_DIFFERS, **rest)) == {"a3", "a4", "a5", "a7", "a8"}
        assert senders(session, this_week(condition=MENISCUS, clinician=CONDITION_DIFFERS, **rest)) == {"a3"}
        assert senders(session, this_week(clinician_condition=MENISCUS, clinician=CONDITION_DIFFERS,
                                          **rest)) == {"a4", "a5"}
        assert senders(session, this_week(level="routine", clinician_level="soon", **rest)) == {"a2"}
        assert senders(session, this_week(level="routine", clinician_level="routine", **rest)) == {"a1", "a7"}
        assert senders(session, this_week(level="routine", clinician_level="urgent", **rest)) == set()  # a7's first
        assert senders(session, this_week(clinician_condition=PFP)) == {"a1", "a2", "a7"}  # not the unassessed one
        case = session.execute(select(Case).where(Case.conversation_id == "a7")).scalar_one()
        assert (case.clinician_level, case.clinician_condition, case.clinician_agrees) == ("routine", PFP, False)


def test_weighted_kappa_is_scikit_learns_linear_kappa() -> None:
    # Two raters, four cases: one disagreement of one level. Observed 1/4; expected 0.875 (worked by hand).
    assert weighted_kappa(["routine", "soon", "routine", "urgent"],
                          ["routine", "routine", "routine", "urgent"]) == pytest.approx(1 - 0.25 / 0.875, abs=0.0005)
    assert weighted_kappa(["routine", "routine"], ["routine", "routine"]) is None  # one level: 0/0
    assert weighted_kappa(["soon", "routine"], ["soon", "routine"]) == 1.0
