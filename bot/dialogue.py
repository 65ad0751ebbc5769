"""What the assistant says and remembers, between Rasa's tracker and the engine.

The action server calls these functions; they know nothing of Rasa, so the conversation's
logic is tested without a running server.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from bot.clinic import Clinic
from bot.language import looks_english
from bot.nlu.entities import EXTRACTOR_NAME, doubtful_flags, entities_to_answers
from bot.nlu.extractor import answer, checklist_hints
from bot.nlu.numbers import choice_numbers
from bot.triage import Assessment, assess, explain_question, next_question, prompt
from bot.triage.knowledge import knowledge
from bot.triage.vocabulary import ANSWERS, RED_FLAG_CHECKLIST, RED_FLAG_KEYS, UNKNOWN, AnswerError, normalise

# Every slot the form can ask: the answer keys and the grouped red-flag checklist.
QUESTION_SLOTS: tuple[str, ...] = (*ANSWERS, RED_FLAG_CHECKLIST)
# Rasa's name for entities parsed from a "/intent{...}" payload.
PAYLOAD_EXTRACTOR = "RegexMessageHandler"
# Slot: red flags a checklist reply may mean without stating them; each is asked on its own next.
UNCLEAR_FLAGS = "unclear_flags"
# Slot and form step: the read-back of the facts before the result. None (not yet), CORRECTING
# (the patient said something is wrong: asked what) or CONFIRMED.
READ_BACK = "read_back"
CORRECTING, CONFIRMED = "correcting", "confirmed"
# The slots a message must fill to count as an answer while the triage form runs (else it is an interruption).
FORM_SLOTS: tuple[str, ...] = (*QUESTION_SLOTS, READ_BACK)
# Intents that start the triage even when the message gave no answer yet.
STARTS_TRIAGE = ("describe_symptoms", "inform", "emergency")
# What the triage form does with a message that answered nothing: LEAVE for the rules to take it
# (a person, a booking made earlier), GOODBYE ends the questions, a response name is said as it is,
# the others are replies below; after all but LEAVE and GOODBYE the question is asked again.
LEAVE, GOODBYE, EXPLAIN, OFFER, OTHER_BODY_PART, SILENT, FALLBACK = (
    "leave", "goodbye", "explain", "offer", "other_body_part", "silent", "fallback")
INTERRUPTIONS = {
    "human": LEAVE, "cancel_appointment": LEAVE, "move_appointment": LEAVE,
    "cancel": GOODBYE, "goodbye": GOODBYE,
    "ask_why": EXPLAIN, "book": OFFER, "other_body_part": OTHER_BODY_PART, "thanks": SILENT,
    "out_of_scope": "utter_out_of_scope", "chitchat": "utter_chitchat",
}
# How many other possibilities the result names after the best fit.
OTHER_POSSIBILITIES = 2
# Conditions passed on in likely_conditions (after any red-flag conditions).
RANKED_FOR_TRACKER = 5


@dataclass(frozen=True)
class Message:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    messages: list[Message]
    triage_level: str
    likely_conditions: list[str]
    assessment: Assessment  # the engine's full result, for the case record


def answers_from_slots(slots: dict[str, Any]) -> dict[str, Any]:
    return {key: slots[key] for key in ANSWERS if slots.get(key) is not None}


def read_message(text: str, entities: list[dict[str, Any]], requested: str | None,
                 current: dict[str, Any], intent: str | None = None, read_back: str | None = None,
                 unclear: list[str] | None = None) -> dict[str, Any]:
    """The slot changes one message makes.

    Answers come from the extractor's entities (anything the text states) and from a tapped
    quick reply; otherwise a short reply ("yep", "3") is read as an answer to the question that
    was asked. A later answer replaces an earlier one (corrections), except that triggers
    accumulate and a red flag once raised stays raised.

    A reply to the red-flag checklist counts as "none" only when it says so; a number picks a sign
    from the numbered list; words that may mean a sign without stating it go to UNCLEAR_FLAGS, so
    each of those signs is asked next, yes or no, as is a red flag a message says with doubt
    ("I think my calf might be swollen?"). `unclear` is the list still to ask (slot UNCLEAR_FLAGS).
    """
    ours = [e for e in entities if e.get("extractor") == EXTRACTOR_NAME]
    found = entities_to_answers(ours)
    found.update(_tapped(entities))
    # "I think my calf might be swollen?": a red flag said with doubt is confirmed, yes or no.
    doubted = doubtful_flags(ours)
    if requested in QUESTION_SLOTS and requested not in found:
        if requested == RED_FLAG_CHECKLIST:
            found.update(_checklist(_picked(text, current) or answer(requested, text), found))
            doubted += checklist_hints(text)
        else:
            reply = answer(requested, text)
            if reply is not None:
                found[requested] = reply
    merged = _merge(found, current)
    if RED_FLAG_CHECKLIST in merged:  # the checklist slot records which flags were present when it was answered
        now = {**current, **merged}
        merged[RED_FLAG_CHECKLIST] = [key for key in RED_FLAG_KEYS if now.get(key) is True]
    changes = {key: value for key, value in merged.items() if current.get(key) != value}
    pending = _unclear(doubted, unclear, {**current, **merged})
    if pending != (unclear or []):
        changes[UNCLEAR_FLAGS] = pending
    if requested == READ_BACK:
        changes[READ_BACK] = _read_back_reply(entities, intent, corrected=bool(found) or read_back == CORRECTING)
    return changes


def _unclear(new: list[str], pending: list[str] | None, answers: dict[str, Any]) -> list[str]:
    """Red flags still to confirm, in checklist order: those pending and the new doubtful ones,
    without any the patient has answered since."""
    wanted = set(new) | set(pending if isinstance(pending, list) else ())
    return [key for key in RED_FLAG_KEYS if key in wanted and answers.get(key) is None]


def _read_back_reply(entities: list[dict[str, Any]], intent: str | None, corrected: bool) -> str:
    """A correction in words is taken and the read-back is done; "no" asks what to change, once."""
    tapped = [e.get("value") for e in entities if e.get("extractor") == PAYLOAD_EXTRACTOR
              and e.get("entity") == READ_BACK]
    if corrected:
        return CONFIRMED
    if tapped and tapped[0] in (CORRECTING, CONFIRMED):
        return tapped[0]
    return CORRECTING if intent == "deny" else CONFIRMED


def _picked(text: str, current: dict[str, Any]) -> dict[str, bool] | None:
    """"4", "the 4th one", "1 and 3": the signs picked from the numbered checklist the patient saw."""
    shown = [key for key, _ in prompt(RED_FLAG_CHECKLIST, current).items]
    picks = choice_numbers(text, len(shown))
    if not picks:
        return None
    return {key: n in picks for n, key in enumerate(shown, start=1)}


def _tapped(entities: list[dict[str, Any]]) -> dict[str, Any]:
    """Answers carried by a quick-reply payload such as /inform{"clicking":true}."""
    answers: dict[str, Any] = {}
    for entity in entities:
        key, value = entity.get("entity"), entity.get("value")
        if entity.get("extractor") != PAYLOAD_EXTRACTOR or key not in QUESTION_SLOTS:
            continue
        if key == RED_FLAG_CHECKLIST:  # "None of these", or the quick reply of one sign
            if value == "none":
                answers.update(_checklist(dict.fromkeys(RED_FLAG_KEYS, False), answers))
            elif value in RED_FLAG_KEYS:
                answers[value] = True
            continue
        if ANSWERS[key].kind == "list" and isinstance(value, str):
            value = [value]  # a quick reply names one trigger
        try:
            answers.update(normalise({key: value}))
        except AnswerError:
            continue  # a forged or stale payload: ignore it, the question is asked again
    return answers


def _checklist(reply: dict[str, bool] | None, found: dict[str, Any]) -> dict[str, Any]:
    """A reply to the red-flag checklist: the flags it names (or none), and the checklist marked answered."""
    if not isinstance(reply, dict):
        return {}
    return {**{key: found.get(key, value) for key, value in reply.items()}, RED_FLAG_CHECKLIST: []}


def _merge(found: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    merged = dict(found)
    old_triggers = current.get("triggers")
    if isinstance(merged.get("triggers"), list) and isinstance(old_triggers, list):
        merged["triggers"] = sorted(set(old_triggers) | set(merged["triggers"]))
    for key in RED_FLAG_KEYS:
        if current.get(key) is True and key in merged:
            merged[key] = True
    return merged


def next_slot(answers: dict[str, Any], unclear: list[str] | None = None, read_back: str | None = None) -> str | None:
    """The engine's next question, after any red flag a checklist reply left unclear; when the
    engine has all it needs, the read-back until it is confirmed. An emergency's result waits for
    neither."""
    key = next_question(answers)
    if key is None and assess(answers).triage_level == "emergency":
        return None
    pending = [flag for flag in unclear or () if flag in RED_FLAG_KEYS and flag not in answers]
    if pending:
        return pending[0]
    if key is None and read_back != CONFIRMED:
        return READ_BACK
    return key


def ask(slot: str, answers: dict[str, Any], clinic: Clinic, said: Collection[str] = (),
        read_back: str | None = None) -> list[Message]:
    """The question, with quick replies whose payload carries the answer (a tap needs no NLU).

    When a red flag already calls for same-day care, the patient hears that at once, before the
    last safety checks for anything more urgent; `said` (the bot's messages so far) keeps it to once.
    """
    messages: list[Message] = []
    so_far = assess(answers, emergency_number=clinic.emergency_number)
    instruction = so_far.urgent_instruction
    if instruction and not any(instruction in text for text in said):
        messages.append(Message(f"{instruction} Before I finish, one or two quick checks."))
    if slot == READ_BACK:
        return [*messages, read_back_message(answers, read_back)]
    q = prompt(slot, answers)
    buttons = [{"title": title, "payload": button_payload(slot, value)} for title, value in q.buttons]
    return [*messages, Message(q.text, buttons)]


def read_back_message(answers: dict[str, Any], state: str | None = None) -> Message:
    """One compact summary of the facts the result will use, with "Yes" and "Something's wrong"."""
    kb = knowledge()
    wording = kb.read_back
    if state == CORRECTING:
        return Message(wording.correct)
    facts = [phrase for key in wording.keys if key in answers for phrase in _said(key, answers[key], kb)]
    flags = [key for key in RED_FLAG_KEYS if answers.get(key) is True]
    facts += ([kb.features[key].reasons[True] for key in flags] if flags
              else [wording.no_flags] if any(key in answers for key in RED_FLAG_KEYS) else [])
    return Message(f"{wording.intro} {'; '.join(facts)}. {wording.question}",
                   [{"title": wording.right, "payload": button_payload(READ_BACK, CONFIRMED)},
                    {"title": wording.wrong, "payload": button_payload(READ_BACK, CORRECTING)}])


def _said(key: str, value: Any, kb: Any) -> list[str]:
    """The reason wording of an answer (features.yml), one per trigger; nothing for "not sure"."""
    feature = kb.features[key]
    if value == UNKNOWN:
        return []
    if feature.kind == "items":
        return [feature.reasons[v] for v in value if v in feature.reasons]
    label = feature.band_of(value) if feature.kind == "bands" else value
    return [feature.reasons[label]] if label in feature.reasons else []


def button_payload(slot: str, value: Any) -> str:
    return "/inform" + json.dumps({slot: value}, separators=(",", ":"))


def interruption(intent: str | None) -> str:
    """What the triage form does with a message that answered nothing (INTERRUPTIONS; else FALLBACK)."""
    return INTERRUPTIONS.get(intent or "", FALLBACK)


def interruption_reply(step: str, text: str, intent: str | None, requested: str | None, level: str | None,
                       clinic: Clinic) -> list[Message]:
    """The reply to an interruption before the question is asked again (none for SILENT)."""
    if step == EXPLAIN:
        return [Message(why(requested))]
    if step == OFFER:
        return booking_offer(level, clinic)
    if step == OTHER_BODY_PART:
        return [Message(other_body_part_reply(clinic))]
    if step == SILENT:
        return []
    return [Message(fallback_reply(text, intent, requested, clinic))]


def why(slot: str | None) -> str:
    if slot in QUESTION_SLOTS:
        return explain_question(slot)
    return ("I ask a few questions about your knee so I can suggest what your answers fit best "
            "and how soon you should be seen.")


def outcome(answers: dict[str, Any], clinic: Clinic) -> Outcome:
    result = assess(answers, emergency_number=clinic.emergency_number)
    messages: list[Message] = []
    if result.urgent_instruction:
        messages.append(Message(result.urgent_instruction))
    ranking = result.ranking()
    best, others = ranking[0], ranking[1: 1 + OTHER_POSSIBILITIES]
    fit = f"Your answers fit best with {result.names[best]}"
    if result.reasons:
        fit += ": " + "; ".join(r.rstrip(".") for r in result.reasons)
    messages.append(Message(fit + "."))
    if others:
        messages.append(Message("It could also be " + " or ".join(result.names[c] for c in others)
                                + ". Only an assessment in person can tell for sure."))
    messages.append(Message(f"How soon: {result.level_text}"))
    already_said = {result.urgent_instruction, result.level_text}
    advice = [a for a in result.advice if a not in already_said]
    if advice:
        messages.append(Message("What you can do:\n" + "\n".join(f"- {a}" for a in advice)))
    messages.extend(booking_offer(result.triage_level, clinic))
    return Outcome(messages, result.triage_level, ranking[: len(result.red_flags) + RANKED_FOR_TRACKER], result)


def booking_offer(level: str | None, clinic: Clinic) -> list[Message]:
    """The hand-off: booking for routine care, the urgent route otherwise, never booking in an emergency."""
    if level == "emergency":
        return [Message(f"Please don't wait for an appointment: call {clinic.emergency_number} or go to A&E now.")]
    if level == "urgent":
        # No routine booking: the urgent route first; a call back only on top of it, never instead.
        return [Message(f"Please don't wait for an appointment with us: this needs to be seen today, so "
                        f"{clinic.urgent_care}. {urgent_escalation(clinic)} If you would also like {clinic.name} "
                        f"to call you, I can ask them to (or call us on {clinic.phone}), but please don't wait "
                        "for the call.",
                        [{"title": "Ask the clinic to call me too", "payload": "/human"},
                         {"title": "No thanks", "payload": "/deny"}])]
    return [Message(f"Would you like to book a physiotherapy assessment with {clinic.name}? I can find you a time "
                    f"here in the chat, or you can book at {clinic.booking_url} or call {clinic.phone}.",
                    [{"title": "Book an appointment", "payload": "/book"},
                     {"title": "Talk to a person", "payload": "/human"}, {"title": "No thanks", "payload": "/deny"}])]


def urgent_escalation(clinic: Clinic) -> str:
    return (f"If it gets worse before you are seen, go to A&E (call {clinic.emergency_number} if you cannot get "
            "there safely).")


def emergency_route(clinic: Clinic) -> str:
    """The way to help that every reply which cannot triage still gives."""
    return f"In an emergency call {clinic.emergency_number} or go to A&E. For urgent help today, {clinic.urgent_care}."


def fallback_reply(text: str, intent: str | None, requested: str | None, clinic: Clinic) -> str:
    """A plain reply to a message the assistant could not use, saying what it needs."""
    if intent == "emergency":
        return (f"If you think this is an emergency, please call {clinic.emergency_number} now. "
                "Otherwise, tell me more about your knee.")
    if not text.strip():
        return "I didn't get any text. Tell me about your knee in a few words."
    if not looks_english(text):
        return (f"Sorry, I can only chat in English for now. You can call the clinic on {clinic.phone}. "
                + emergency_route(clinic))
    if requested == RED_FLAG_CHECKLIST:
        return ("That's fine. If any of these might apply, tell me which ones; if none of them do, "
                "just say \"none\".")
    if requested in QUESTION_SLOTS:
        return "Sorry, I didn't catch that. You can pick an option or say it in your own words."
    return ("Sorry, I didn't quite get that. Tell me about your knee: where it hurts, what sets it off "
            "and how it started.")


def other_body_part_reply(clinic: Clinic) -> str:
    return ("I can only help with knee problems for now, sorry. For anything else our physios can "
            f"help: book at {clinic.booking_url} or call {clinic.phone} and we'll call you back. "
            + emergency_route(clinic))




