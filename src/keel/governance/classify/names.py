"""Column names and data types -> the PII kind, identifier and cursor facts a name suggests.

Names are split into lower-case tokens, so ``EMAIL_ADDRESS``, ``emailAddress`` and
``email-address`` all read as ``email address``; the word tables live in
:mod:`keel.governance.classify.vocab`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from keel.governance.classify import vocab as V


def tokens(name: str) -> tuple[str, ...]:
    """Split a column or table name into lower-case ASCII word tokens."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return tuple(t for t in re.split(r"[^0-9a-z]+", text.lower()) if t)


def has_seq(tokens: Sequence[str], seq: Sequence[str]) -> bool:
    n = len(seq)
    return any(tuple(tokens[i : i + n]) == tuple(seq) for i in range(len(tokens) - n + 1))


def is_airbyte_meta(name: str) -> bool:
    lowered = name.strip().strip('"`').lower()
    return lowered.startswith(("_airbyte_", "_ab_cdc_"))


def type_family(data_type: str) -> str:
    """One of boolean, numeric, temporal, text, semi, binary, unknown."""
    raw = data_type.strip().lower()
    if raw.endswith("]"):
        return "semi"
    base = re.sub(r"\(.*\)", "", raw)
    base = " ".join(base.split())
    if not base:
        return "unknown"
    if base in ("bool", "boolean", "logical"):
        return "boolean"
    if base.startswith(("date", "time", "interval")):
        return "temporal"
    if base.startswith(V.NUMERIC_PREFIXES):
        return "numeric"
    if base in V.TEXT_TYPES:
        return "text"
    if base.startswith(V.SEMI_PREFIXES):
        return "semi"
    if base.startswith(V.BINARY_PREFIXES):
        return "binary"
    return "unknown"


def declared_length(data_type: str) -> int | None:
    match = re.search(r"\(\s*(\d+)\s*\)", data_type)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class NameHit:
    level: str
    kind: str
    reason: str


def _is_negated(tokens: Sequence[str]) -> bool:
    if tokens[0] in V.NEGATING_FIRST or has_seq(tokens[:2], ("number", "of")):
        return True
    return any(t in V.NEGATING_TOKENS for t in tokens)


def _is_birth(tokens: Sequence[str]) -> bool:
    return any(
        t in ("dob", "born", "dateofbirth") or t.startswith("birth") or t.endswith("birthdate")
        for t in tokens
    )


def _is_national_id(tokens: Sequence[str]) -> bool:
    if any(
        t in ("ssn", "nin", "taxid", "nationalid", "driverslicense", "driverlicense")
        or t.startswith(("passport", "socialsecurity"))
        for t in tokens
    ):
        return True
    phrases = (
        ("social", "security"),
        ("national", "id"),
        ("national", "insurance"),
        ("national", "identity"),
        ("tax", "id"),
        ("taxpayer", "id"),
        ("driver", "license"),
        ("drivers", "license"),
        ("driving", "licence"),
        ("driving", "license"),
    )
    return any(has_seq(tokens, p) for p in phrases)


def _is_card_name(tokens: Sequence[str]) -> bool:
    if any(
        t
        in (
            "pan",
            "iban",
            "cvv",
            "cvv2",
            "cvc",
            "cardnumber",
            "creditcard",
            "ccnumber",
            "accountnumber",
            "bankaccount",
            "routingnumber",
        )
        for t in tokens
    ):
        return True
    phrases = (
        ("card", "number"),
        ("card", "num"),
        ("credit", "card"),
        ("debit", "card"),
        ("cc", "number"),
        ("cc", "num"),
        ("account", "number"),
        ("acct", "number"),
        ("acct", "num"),
        ("bank", "account"),
        ("routing", "number"),
    )
    return any(has_seq(tokens, p) for p in phrases)


def _is_secret(tokens: Sequence[str]) -> bool:
    for i, t in enumerate(tokens):
        if any(word in t for word in ("password", "passwd", "passphrase", "secret", "credential")):
            return True
        if t in ("pwd", "token", "tokens", "apikey") or (len(t) > 5 and t.endswith("token")):
            return True
        if t in ("key", "keys") and i > 0 and tokens[i - 1] in V.SECRET_KEY_QUALIFIERS:
            return True
    return False


def _is_email(tokens: Sequence[str]) -> bool:
    return any("email" in t for t in tokens) or has_seq(tokens, ("e", "mail"))


def _is_ip_name(tokens: Sequence[str]) -> bool:
    return any(t in ("ip", "ipv4", "ipv6") or t.startswith("ipaddr") for t in tokens)


def _is_phone_name(tokens: Sequence[str]) -> bool:
    for t in tokens:
        if t in V.PHONE_TOKENS or (
            t.startswith("phone") and not t.startswith(("phonet", "phonem"))
        ):
            return True
        if t.endswith("phone") and t[: -len("phone")] in V.PHONE_COMPOUND_PREFIXES:
            return True
    return False


def _address_hit(tokens: Sequence[str]) -> NameHit | None:
    for i, t in enumerate(tokens):
        is_address = t.startswith(("address", "street")) or (
            len(t) > len("address") and t.endswith("address")
        )
        if is_address or t in ("addr", "zip", "zipcode", "postcode", "postal", "postalcode"):
            before = tokens[i - 1] if i > 0 else ""
            if before in ("web", "url", "website") or t in ("webaddress", "urladdress"):
                return None
            if before == "mac" or t == "macaddress":
                return NameHit("low", "device_address", "name looks like a device (MAC) address")
            return NameHit("high", "address", "name looks like a postal address column")
    return None


def _person_name_hit(tokens: Sequence[str]) -> NameHit | None:
    """Classify ``<qualifier>_name`` columns by the nearest known qualifier."""
    for i, t in enumerate(tokens):
        if t in V.PERSON_NAME_COMPOUNDS:
            return NameHit("high", "person_name", "name looks like a person's name")
        if t in ("name", "names"):
            after = tokens[i + 1] if i + 1 < len(tokens) else ""
            if after in ("first", "last", "full", "given", "family", "middle"):
                return NameHit("high", "person_name", "name looks like a person's name")
            return _qualified_name_hit(tokens[:i])
        if len(t) > len("name") and t.endswith("name"):
            prefix = t[: -len("name")]
            if prefix in ("user", "host", "file", "re", "code"):
                # username is a handle; hostname, filename, rename and codename are not people
                if prefix == "user":
                    return NameHit("low", "handle", "name looks like a login handle")
                continue
            return _qualified_name_hit([*tokens[:i], prefix])
    if any(t in ("username", "login", "handle") for t in tokens):
        return NameHit("low", "handle", "name looks like a login handle")
    return None


def _qualified_name_hit(qualifiers: Sequence[str]) -> NameHit | None:
    for q in reversed(qualifiers):
        if q in V.PERSON_QUALIFIERS:
            return NameHit("high", "person_name", f"name looks like a person's name ({q} name)")
        if q in ("user", "login", "screen"):
            return NameHit("low", "handle", "name looks like a login handle")
        if q in V.LOW_NAME_QUALIFIERS:
            return NameHit("low", "org_name", f"name looks like an organisation's name ({q})")
        if q in V.THING_NAME_QUALIFIERS:
            return None
    return NameHit("low", "name", "a generic name column may name a person")


def _is_weak(tokens: Sequence[str]) -> bool:
    """Weak personal data: a time zone, a job title, a spoken language, a phone extension."""
    joined = "".join(tokens)
    if any(t in V.WEAK_TOKENS for t in tokens) or joined in V.WEAK_TOKENS:
        return True
    if any(has_seq(tokens, phrase) for phrase in V.WEAK_PHRASES):
        return True
    if tuple(tokens) in (("ext",), ("extension",), ("phone", "ext")):
        return True
    return _is_phone_name(tokens) and any(t in ("ext", "extension") for t in tokens)


def _fixed(kind: str, level: str, reason: str, test: Callable[[Sequence[str]], bool]) -> Matcher:
    def match(tokens: Sequence[str]) -> NameHit | None:
        return NameHit(level, kind, reason) if test(tokens) else None

    return match


Matcher = Callable[[Sequence[str]], "NameHit | None"]
_ANY = frozenset({"text", "numeric", "temporal", "semi", "unknown"})
_VALUE = frozenset({"text", "numeric", "semi", "unknown"})
_TEXT = frozenset({"text", "semi", "unknown"})


@dataclass(frozen=True)
class NameRule:
    """One row of the name rule table: where it applies and what it matches."""

    match: Matcher
    families: frozenset[str]  # data type families that can hold such a value
    on_reference: bool = False  # still applies to ``<x>_id`` / ``<x>_key`` names
    on_timestamp: bool = False  # still applies to ``<x>_at`` / ``_on`` / ``_by`` names


# The name rules, first match wins. Guards before the table: booleans and binaries
# never, counters and attributes of a value never (``email_count``), nor text about it
# (``email_body``).
NAME_RULES: tuple[NameRule, ...] = (
    NameRule(
        _fixed("birth_date", "sensitive", "name suggests a birth date", lambda t: _is_birth(t)),
        _ANY,
        on_reference=True,
        on_timestamp=True,
    ),
    NameRule(
        _fixed("national_id", "sensitive", "name looks like a national or tax id", _is_national_id),
        _VALUE,
        on_reference=True,
    ),
    NameRule(
        _fixed("card_number", "sensitive", "name looks like payment card/bank data", _is_card_name),
        _VALUE,
    ),
    NameRule(
        _fixed(
            "weak",
            "low",
            "name looks like weak personal data (time zone, job title, language, phone extension)",
            _is_weak,
        ),
        _VALUE,
    ),
    NameRule(
        _fixed("secret", "sensitive", "name looks like a password, secret or token", _is_secret),
        _TEXT,
    ),
    NameRule(_fixed("email", "high", "name looks like an email column", _is_email), _TEXT),
    NameRule(_fixed("ip", "high", "name looks like an IP address column", _is_ip_name), _TEXT),
    NameRule(_fixed("phone", "high", "name looks like a phone column", _is_phone_name), _VALUE),
    NameRule(_address_hit, _TEXT),
    NameRule(
        _fixed("city", "low", "name looks like a city (coarse location)", lambda t: "city" in t),
        _TEXT,
    ),
    NameRule(_person_name_hit, _TEXT),
)


def name_pii(tokens: Sequence[str], family: str) -> NameHit | None:
    """The PII a column name suggests, given what its data type can hold: the first
    matching row of :data:`NAME_RULES`."""
    hits = name_hits(tuple(tokens), family)
    return hits[0] if hits else None


@functools.lru_cache(maxsize=16384)
def name_hits(tokens: tuple[str, ...], family: str) -> tuple[NameHit, ...]:
    """Every row of :data:`NAME_RULES` the name matches, in table order (the sampled
    values may overrule the first, and then the next one is considered)."""
    if not tokens or family in ("boolean", "binary") or _is_negated(tokens):
        return ()
    if len(tokens) > 1 and tokens[-1] in V.TEXT_HINTS:
        return ()  # email_body, phone_notes: text about the value, judged as text
    secret_key = (
        tokens[-1] in ("key", "keys") and len(tokens) > 1 and tokens[-2] in V.SECRET_KEY_QUALIFIERS
    )
    reference = tokens[-1] in V.ID_SUFFIXES and not secret_key
    timestamp = tokens[-1] in V.NEGATING_LAST
    hits: list[NameHit] = []
    for rule in NAME_RULES:
        if family not in rule.families:
            continue
        if (reference and not rule.on_reference) or (timestamp and not rule.on_timestamp):
            continue
        hit = rule.match(tokens)
        if hit is not None and all(h.kind != hit.kind for h in hits):
            hits.append(hit)
    return tuple(hits)


def identifier(tokens: Sequence[str]) -> tuple[bool, bool]:
    """(is an identifier, is the row's own key) judged from the name alone."""
    if not tokens:
        return False, False
    last = tokens[-1]
    before = tokens[-2] if len(tokens) > 1 else ""
    if len(tokens) == 1 and last in ("id", "uuid", "guid", "pk", "key"):
        return True, True
    if last in ("key", "keys"):
        if before in V.SECRET_KEY_QUALIFIERS:
            return False, False
        if before in V.NON_IDENTIFIER_KEY_QUALIFIERS or not before:
            return before == "foreign", False
        return True, last == "key"
    if last in ("id", "ids", "uuid", "guid", "fk", "pk"):
        return True, last in ("id", "pk") and before in V.SELF_ID_QUALIFIERS
    if last in V.SELF_COMPOUND_IDS:
        return True, True
    if last.endswith(("id", "ids", "uuid", "guid")):
        stem = re.sub(r"(ids|id|uuid|guid)$", "", last)
        if stem in V.COMPOUND_ID_PREFIXES:
            return True, False
    return False, False


def is_cursor(tokens: Sequence[str], family: str) -> bool:
    if not tokens or family in ("boolean", "semi", "binary") or tokens[0] in V.NEGATING_FIRST:
        return False
    if tokens[-1] == "ts" or tuple(tokens) == ("timestamp",):
        return True
    if tokens[-1] in V.CURSOR_BLOCKING_LAST:
        return False
    return any(
        t in V.CURSOR_TOKENS or "lastmodified" in t or "lastupdated" in t or "modstamp" in t
        for t in tokens
    )


def has_text_hint(tokens: Sequence[str]) -> bool:
    if not tokens or tokens[-1] in V.TEXT_BLOCKING_LAST or tokens[0] in V.NEGATING_FIRST:
        return False
    return any(t in V.TEXT_HINTS or t.endswith(V.TEXT_HINT_SUFFIXES) for t in tokens)
