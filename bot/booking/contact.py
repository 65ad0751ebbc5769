"""Checking what the patient types for their name, phone and email; None means ask again."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# Letters from any alphabet, with the joiners real names use (O'Neill, Smith-Jones, St. John).
NAME = re.compile(r"^[^\W\d_]+(?:[ '’.-][^\W\d_]+)*\.?$")
DEFAULT_COUNTRY = "GB"  # the clinic file's `country` sets it for each clinic
EMAIL_LIKE = re.compile(r"\S+@\S+")
WHATSAPP_PREFIX = re.compile(r"^(?:whatsapp:\s*|(?:https?://)?wa\.me/)", re.I)
# Everyday words that make a reply a sentence, not a name ("I don't know", "talk to a person").
NOT_NAMES = frozenset("""i me my you your it a an the to of and or not no yes yeah nope don't dont know why what who
how is are am do does can could would will want need talk speak person human someone somebody call phone book
cancel stop please thanks thank hello hi hey sorry later again change time""".split())
MAX_NAME_WORDS = 4
NAME_PREFIX = re.compile(r"^(?:(?:my )?(?:first |last |sur)?name(?: is|'s)?|i'?m|i am|it'?s|call me)\s+", re.I)


def clean_name(text: str) -> str | None:
    """One name (first or last), trimmed and capitalised when typed all in one case."""
    text = NAME_PREFIX.sub("", " ".join(text.split())).strip(" .,!")
    if not 1 <= len(text) <= 100 or not NAME.match(text):
        return None
    words = text.lower().replace("’", "'").split()
    if len(words) > MAX_NAME_WORDS or any(w in NOT_NAMES for w in words):
        return None
    return text.title() if text.islower() or text.isupper() else text


def split_full_name(text: str) -> tuple[str, str] | None:
    """'Sam Taylor' -> ('Sam', 'Taylor'); None unless there are at least two names."""
    cleaned = clean_name(text)
    if not cleaned or " " not in cleaned:
        return None
    first, last = cleaned.split(" ", 1)
    return first, last


def clean_phone(text: str, country: str = DEFAULT_COUNTRY) -> str | None:
    """A phone number in E.164 (+447700900123), read in the clinic's country; None if it cannot be one.

    National ("07700 900123") and international ("+44 7700 900123", "0044 ...") forms are read by
    phonenumbers; a WhatsApp number may come as "wa.me/447700900123" or bare digits with the country
    code. A number of its country's general shape and length is accepted even when phonenumbers doesn't
    know its range (the clinic will call it; Ofcom's drama numbers 07700 900xxx are such).
    """
    raw = WHATSAPP_PREFIX.sub("", " ".join(text.split()))
    if not raw or len(raw) > 40 or re.search(r"[^\d\s()+.\-/]", raw):
        return None
    attempts = [raw] if raw.startswith(("+", "0")) else [raw, "+" + raw]
    for attempt in attempts:
        number = _parse(attempt, country)
        if number is not None:
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def find_phone(text: str, country: str = DEFAULT_COUNTRY) -> str | None:
    """The first phone number in a sentence ("my number is 07700 900123, thanks")."""
    for match in phonenumbers.PhoneNumberMatcher(text[:500], country, leniency=phonenumbers.Leniency.POSSIBLE):
        phone = clean_phone(match.raw_string, country)
        if phone:
            return phone
    return clean_phone(text, country)  # a WhatsApp form the matcher does not look for


def _parse(text: str, country: str) -> phonenumbers.PhoneNumber | None:
    try:
        number = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_valid_number(number):
        return number
    # Not in a range phonenumbers knows, but of the country's general shape and length (drama numbers, new ranges)
    region = phonenumbers.region_code_for_country_code(number.country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    shape = metadata.general_desc.national_number_pattern if metadata and metadata.general_desc else None
    national = phonenumbers.national_significant_number(number)
    possible = phonenumbers.is_possible_number_with_reason(number) == phonenumbers.ValidationResult.IS_POSSIBLE
    return number if possible and shape and re.fullmatch(shape, national) else None


def clean_email(text: str) -> str | None:
    """The address, normalised (the domain in lower case), if its syntax is right; no network look-up."""
    text = text.strip().strip("<>.,;:()").strip()
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def find_contact(text: str, country: str = DEFAULT_COUNTRY) -> tuple[str | None, str | None]:
    """The phone number and the email address in one message ("07700 900123 or sam@example.com"), each or None."""
    email = next((e for e in map(clean_email, EMAIL_LIKE.findall(text)) if e), None)
    return find_phone(EMAIL_LIKE.sub(" ", text), country), email
