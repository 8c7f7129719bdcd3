"""People in sampled text: emails, phone numbers and person names inside values.

Short values are judged whole by :func:`keel.governance.classify.values.detect_value_kind`;
this module reads values as prose (message bodies, notes, subjects, titles, raw
``"Ann Lee" <ann@example.com>`` headers) and as person names.

- An email counts unless it is a technical identifier written like an address:
  ``<...@mail.gmail.com>`` message ids (RFC 5322 ``Message-ID``), iCalendar ``UID``
  values (RFC 5545 recommends ``<unique>@<host>``), tracking or dropbox addresses whose
  local part is a long machine token (hex, base64, many digits). See
  :func:`is_technical_address`.
- A phone number counts when written as one: a leading ``+`` and 8-15 digits, or the
  North American ``(ddd) ddd-dddd`` / ``ddd-ddd-dddd`` / ``ddd.ddd.dddd`` shapes.
- A person is named when a given name from :mod:`keel.governance.classify.given_names`
  is followed by a capitalised surname (``Ann Lee``, ``Maria O'Neil``), or stands after a
  greeting or sign-off (``Hi Ann,``, ``Thanks, Priya``), or is an ``@mention``-free
  short value made of capitalised words starting with one (``Ann``, ``Ann Lee``).
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

from keel.governance.classify.given_names import GIVEN_NAMES

_TAG_RE = re.compile(r"</?[A-Za-z!][^<>@]{0,2000}>")
_EMAIL_IN_TEXT_RE = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9._%+'-]{1,64})@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
)
_BRACKETED_ID_RE = re.compile(r"<[^<>\s@]{1,200}@[^<>\s@]{1,200}>")
_PHONE_IN_TEXT_RE = re.compile(
    r"(?<![\w+])(?:\+\d[\d ().-]{7,18}\d|\(\d{3}\)\s?\d{3}[-.\s]\d{4}|\d{3}[-.]\d{3}[-.]\d{4})(?!\w)"
)
_WORD_RE = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ'’-]*")
_GREETINGS = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "dear",
        "thanks",
        "thank",
        "cheers",
        "regards",
        "best",
        "sincerely",
        "from",
        "cc",
        "attn",
        "with",
        "and",
    ]
)
# Capitalised words that follow a given name without being a surname.
_NOT_SURNAMES = frozenset(
    [
        "the",
        "and",
        "or",
        "to",
        "from",
        "for",
        "with",
        "at",
        "on",
        "in",
        "of",
        "is",
        "a",
        "an",
        "i",
        "we",
        "you",
        "team",
        "call",
        "meeting",
        "sync",
        "demo",
        "intro",
        "review",
        "update",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)
_TECH_LOCAL_RE = re.compile(r"[0-9a-f]{12,}|[A-Za-z0-9+/=_-]{20,}")
_TECH_DOMAINS = ("calendar.", "mail.gmail.com", "mx.google.com", "bounce.", "reply.")


def strip_markup(value: str) -> str:
    """Text without HTML tags and entities (``<ann@example.com>`` is kept: not a tag)."""
    if "<" in value or "&" in value:
        value = html.unescape(_TAG_RE.sub(" ", value))
    return value


def is_technical_address(local: str, domain: str) -> bool:
    """True for identifiers written as addresses rather than someone's mailbox."""
    digits = sum(c.isdigit() for c in local)
    if len(local) >= 16 and digits * 10 >= len(local) * 3:
        return True
    if _TECH_LOCAL_RE.fullmatch(local) and (len(local) >= 20 or digits >= 4):
        return True
    lowered = domain.lower()
    return any(lowered.startswith(d) or lowered == d for d in _TECH_DOMAINS)


def personal_emails(text: str) -> int:
    """How many personal (non-technical) email addresses the text contains."""
    if "@" not in text:
        return 0
    text = _BRACKETED_ID_RE.sub(
        lambda m: m.group(0) if _bracket_is_mailbox(m.group(0)) else " ", text
    )
    return sum(1 for m in _EMAIL_IN_TEXT_RE.finditer(text) if not is_technical_address(*m.groups()))


def _bracket_is_mailbox(token: str) -> bool:
    match = _EMAIL_IN_TEXT_RE.search(token)
    return match is not None and not is_technical_address(*match.groups())


def has_phone(text: str) -> bool:
    for m in _PHONE_IN_TEXT_RE.finditer(text):
        digits = sum(c.isdigit() for c in m.group(0))
        if 10 <= digits <= 15 or (m.group(0).startswith("+") and digits >= 8):
            return True
    return False


def _is_given(word: str) -> bool:
    return word[:1].isupper() and word.lower() in GIVEN_NAMES


def _is_surname(word: str) -> bool:
    return (
        len(word) >= 2
        and word[:1].isupper()
        and not word.isupper()
        and word.lower() not in _NOT_SURNAMES
        and word.lower() not in _GREETINGS
    )


def names_a_person(text: str) -> bool:
    """True when the text names a person (see the module docstring)."""
    words = _WORD_RE.findall(text)
    for i, word in enumerate(words):
        if not _is_given(word):
            continue
        if i + 1 < len(words) and _is_surname(words[i + 1]):
            return True
        if i > 0 and words[i - 1].lower() in _GREETINGS:
            return True
    return False


@functools.lru_cache(maxsize=65536)
def is_person_name(value: str) -> bool:
    """A short value that is a person's name: 1-4 capitalised words, the first a given
    name (``Ann``, ``Ann Lee``, ``Maria de la Cruz``), or ``Lee, Ann``."""
    text = value.strip()
    if not text or len(text) > 60 or any(c.isdigit() for c in text) or "@" in text:
        return False
    parts = [p for p in re.split(r"[\s,]+", text) if p]
    if not 1 <= len(parts) <= 4:
        return False
    if not all(_WORD_RE.fullmatch(p) for p in parts):
        return False
    return _is_given(parts[0]) or (len(parts) == 2 and "," in text and _is_given(parts[1]))


@functools.lru_cache(maxsize=65536)
def is_name_shaped(value: str) -> bool:
    """Could be a person's name (1-4 capitalised words, or a single lower-case handle
    such as ``ann.lee``): what a value must look like not to contradict a name column."""
    text = value.strip()
    if not text or len(text) > 60 or any(c.isdigit() for c in text):
        return False
    parts = text.split()
    if not 1 <= len(parts) <= 4 or (text.isupper() and len(text) > 3):
        return False
    if len(parts) == 1 and re.fullmatch(r"[a-z]+(?:[._-][a-z]+)*", text):
        return is_handle(text)
    return all(_WORD_RE.fullmatch(p) and p[:1].isupper() for p in parts)


def is_handle(value: str) -> bool:
    """A login handle made from a given name (``ann.lee``, ``ann_l``, ``priya``)."""
    first = re.split(r"[._-]", value.strip().lower(), maxsplit=1)[0]
    return first in GIVEN_NAMES


_JOB_WORDS = frozenset(
    [
        "manager",
        "engineer",
        "director",
        "executive",
        "representative",
        "vp",
        "president",
        "head",
        "chief",
        "ceo",
        "cfo",
        "cto",
        "coo",
        "cmo",
        "cio",
        "analyst",
        "specialist",
        "consultant",
        "officer",
        "founder",
        "cofounder",
        "designer",
        "developer",
        "administrator",
        "recruiter",
        "associate",
        "intern",
        "assistant",
        "architect",
        "scientist",
        "accountant",
        "strategist",
        "partner",
        "principal",
        "lead",
        "supervisor",
        "coordinator",
        "advisor",
        "attorney",
        "counsel",
        "nurse",
        "physician",
        "teacher",
        "professor",
        "researcher",
        "technician",
    ]
)


@functools.lru_cache(maxsize=65536)
def is_job_title(value: str) -> bool:
    """A short value naming a job (``Account Executive``, ``VP of Sales``, ``CFO``)."""
    words = re.findall(r"[A-Za-z]+", value)
    if not 1 <= len(words) <= 6 or value.strip().isdigit():
        return False
    return any(w.lower() in _JOB_WORDS for w in words) and value.strip()[:1].isupper()


@dataclass(frozen=True)
class TextScan:
    """How many of the sampled values mention people, and how."""

    sampled: int
    mentioning: int  # values with at least one of the below
    emails: int
    phones: int
    names: int

    def summary(self) -> str:
        kinds = [
            f"{label} {count}"
            for label, count in (
                ("emails", self.emails),
                ("phones", self.phones),
                ("person names", self.names),
            )
            if count
        ]
        return (
            f"{self.mentioning}/{self.sampled} sampled values mention people ({', '.join(kinds)})"
        )


def scan_text(values: list[str]) -> TextScan:
    """Scan each value (markup stripped, first 4000 characters) for people."""
    mentioning = emails = phones = names = 0
    for raw in values:
        text = strip_markup(raw[:4000])
        e = personal_emails(text) > 0
        p = has_phone(text)
        n = names_a_person(text)
        emails += e
        phones += p
        names += n
        mentioning += e or p or n
    return TextScan(len(values), mentioning, emails, phones, names)
