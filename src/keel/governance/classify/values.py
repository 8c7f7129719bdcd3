"""Sampled values -> the kind of personal data one value is (email, phone, card, ...)."""

from __future__ import annotations

import functools
import ipaddress
import re
from datetime import date

from keel.governance.classify.text import is_technical_address

VALUE_KIND_LEVEL: dict[str, str] = {
    "email": "high",
    "phone": "high",
    "ip": "high",
    "national_id": "sensitive",
    "card_number": "sensitive",
    "birth_date": "sensitive",
    "social_profile": "high",
    "timezone": "low",
}
VALUE_KIND_LABEL: dict[str, str] = {
    "email": "emails",
    "phone": "phone numbers",
    "ip": "IP addresses",
    "national_id": "national ids (SSN format)",
    "card_number": "card numbers (Luhn-valid)",
    "birth_date": "dates",
    "social_profile": "social profile links",
    "timezone": "time zones (IANA)",
}

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SSN_RE = re.compile(r"(\d{3})-(\d{2})-(\d{4})")
_CARD_RE = re.compile(r"\d[\d -]*\d")
_PHONE_RE = re.compile(r"(\+?)([\d().\s-]+?)(?:\s*(?:x|ext\.?)\s*\d{1,6})?", re.IGNORECASE)
_DECIMAL_RE = re.compile(r"\d+\.\d+")
_ISO_DATE_RE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DMY_DATE_RE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_ASCII_DIGITS = frozenset("0123456789")
# IANA time zone names (the tz database's Area/Location form).
_TZ_RE = re.compile(
    r"(?:Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific)/[A-Za-z_]+(?:/[A-Za-z_]+)?"
)
# A personal profile on a social network: the path is the person's handle.
_SOCIAL_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:twitter\.com|x\.com|linkedin\.com/in|facebook\.com|instagram\.com|github\.com)/[A-Za-z0-9_.-]{2,}/?",
    re.IGNORECASE,
)
_MAX_EMAIL_LENGTH = 254
_MAX_SHORT_VALUE_LENGTH = 64


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` passes the Luhn checksum used by payment card numbers.

    Spaces and hyphens are ignored; any other non-digit character, or fewer than two
    digits, gives False.
    """
    cleaned = digits.replace(" ", "").replace("-", "")
    if len(cleaned) < 2 or not set(cleaned) <= _ASCII_DIGITS:
        return False
    total = 0
    for position, char in enumerate(reversed(cleaned)):
        value = ord(char) - ord("0")
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _is_ssn(value: str) -> bool:
    match = _SSN_RE.fullmatch(value)
    if match is None:
        return False
    area, group, serial = match.groups()
    # the SSA never issues area 000, 666 or 9xx, group 00 or serial 0000
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _is_card_value(value: str) -> bool:
    if _CARD_RE.fullmatch(value) is None:
        return False
    digits = value.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and luhn_valid(digits)


def _is_ip_value(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    # 126.0.0.0 is a network address, and far more often a version string than a host
    return not (address.version == 4 and value.endswith(".0"))


def _is_phone(value: str) -> bool:
    match = _PHONE_RE.fullmatch(value)
    if match is None:
        return False
    plus, body = match.group(1), match.group(2).strip()
    if not body or not (body[0].isdigit() or body[0] == "("):
        return False
    digit_count = sum(1 for c in body if c in _ASCII_DIGITS)
    if not 10 <= digit_count <= 15:
        return False
    if plus:
        return True
    separators = {c for c in body if c not in _ASCII_DIGITS}
    if not separators:
        return False  # a bare integer: an id or an amount, not a phone number
    if _DECIMAL_RE.fullmatch(body):
        return False  # 12345678.90 is an amount
    groups = re.split(r"[\s.]+", body)
    # 1 234 567 890 is thousands grouping, not a phone number
    thousands = separators <= {" ", "."} and len(groups) > 2
    return not (thousands and all(len(g) == 3 for g in groups[1:]))


def _is_calendar_date(value: str) -> bool:
    for pattern, order in ((_ISO_DATE_RE, (0, 1, 2)), (_DMY_DATE_RE, (2, 1, 0))):
        match = pattern.fullmatch(value)
        if match is None:
            continue
        parts = [int(p) for p in match.groups()]
        year, second, third = parts[order[0]], parts[order[1]], parts[order[2]]
        if not 1900 <= year <= 2100:
            return False
        for month, day in ((second, third), (third, second)):
            try:
                date(year, month, day)
            except ValueError:
                continue
            return True
        return False
    return False


@functools.lru_cache(maxsize=65536)
def detect_value_kind(value: str) -> str | None:
    """Classify one sampled value.

    Returns "email", "national_id" (US SSN ``ddd-dd-dddd``), "card_number" (13-19
    digits, optionally grouped by spaces or hyphens, Luhn-valid), "ip" (IPv4 or IPv6),
    "phone" (10-15 digits with a leading ``+`` or separators; bare integers, decimals
    and thousands-grouped numbers are not phones), "birth_date" (a plausible calendar
    date -- the caller decides whether a date is a birth date), "social_profile" (a
    profile link on a social network), "timezone" (an IANA zone name) or None. Email-shaped
    technical identifiers (message ids, calendar UIDs, tracking addresses) are not emails.
    """
    text = value.strip()
    if not text or len(text) > _MAX_EMAIL_LENGTH:
        return None
    if "@" in text:
        if _EMAIL_RE.fullmatch(text) is None:
            return None
        local, _, domain = text.rpartition("@")
        return None if is_technical_address(local, domain) else "email"
    if _SOCIAL_RE.fullmatch(text):
        return "social_profile"
    if _TZ_RE.fullmatch(text):
        return "timezone"
    if len(text) > _MAX_SHORT_VALUE_LENGTH:
        return None  # free text; also keeps the regexes linear on long values
    if _is_ssn(text):
        return "national_id"
    if _is_card_value(text):
        return "card_number"
    if _is_ip_value(text):
        return "ip"
    if _is_phone(text):
        return "phone"
    if _is_calendar_date(text):
        return "birth_date"
    return None
