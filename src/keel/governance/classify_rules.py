"""Rules that propose SOPHIA_AI_METADATA tags for tables and columns no contract describes.

Everything here is a pure function of a column's name, its declared data type and a
handful of sampled values (strings, ``None`` for SQL NULL). Nothing reads the warehouse;
the caller samples and then decides what to do with the proposal.

Column names
    Names are split into lower-case tokens, so ``EMAIL_ADDRESS`` (Snowflake),
    ``emailAddress`` (camelCase) and ``email-address`` all read as ``email address``.
    Some sources arrive with camelCase flattened by an unquoted upper-casing
    (``FIRSTNAME``, ``HS_LASTMODIFIEDDATE``), so a few compound tokens are recognised too.

Airbyte metadata
    ``_AIRBYTE_*`` (``_AIRBYTE_RAW_ID``, ``_AIRBYTE_EXTRACTED_AT``, ``_AIRBYTE_META``,
    ``_AIRBYTE_GENERATION_ID``, ...) and ``_AB_CDC_*`` columns are bookkeeping: never PII,
    never an identifier, never critical, whatever their values look like.

``pii_level`` ("none" < "low" < "high" < "sensitive") is the maximum of two signals:

* the name: e-mail, phone/mobile/tel/fax, a person's name (``first_name``,
  ``contact_name``, ``owner_name``, ``FIRSTNAME``), a postal address (address, street,
  zip, postal code) and IP addresses are ``high``; birth dates, national ids (SSN,
  passport, tax id, NIN, driver's licence), payment data (card number, IBAN, account
  number, CVV) and secrets (password, secret, token, api key) are ``sensitive``;
  ``city``, a plain ``name``, a company-like name (``company_name``, ``account_name``)
  and a login handle (``user_name``) are ``low``; names of things that are not people
  (``channel_name``, ``product_name``, ``deal_name``) are ``none``. A name only counts
  where the data type can hold such a value: a boolean never, a date/timestamp only for
  a birth date, a number only for phone, national-id, card and birth data. Counters
  and attributes *about* a value are not the value (``email_count``, ``email_type``,
  ``is_email_verified``, ``num_phones``), nor is text about a value (``email_body`` is
  judged as free text), nor are references to another row ending in ``_id``/``_key``
  (``email_id``) -- except national and tax ids, which are the value.
* the sampled values: the non-null, non-blank samples are classified with
  :func:`detect_value_kind`; a kind matching at least half of them (and at least two
  values, or the single value when only one was sampled) gives ``email`` -> high,
  ``phone`` -> high, ``ip`` -> high, ``national_id`` -> sensitive, ``card_number`` ->
  sensitive. ``birth_date`` (any plausible calendar date) only counts when the column
  name already hints at a birth date -- dates alone are not PII.

``is_primary_identifier``
    Only the name is known, not the table's key, so this is a naming convention: ``id``
    (also ``_id``, ``ID``), ``uuid``, ``guid``, ``pk``, ``<something>_key`` (but not
    secrets such as ``api_key`` nor physical-design keys such as ``sort_key``), and the
    self-referencing ids some sources use for the row's own key (``internal_id``,
    ``record_id``, ``object_id`` as in HubSpot's ``hs_object_id``). A plain ``<x>_id``
    (``company_id``, ``userId``, ``CUSTOMERID``) is taken as a foreign key: not primary,
    but still an identifier and therefore critical.

``vector_index``
    Long free text worth embedding: the data type must be text-like (varchar, text,
    string, char; not json/variant/arrays, and not a declared length under 200) and
    either the name hints at prose (transcript, body, text, content, description,
    notes, comment, message, summary, bio, ...) or the sampled values average at least
    200 characters. Identifiers, cursors and columns with a name-based PII kind
    (``email``, ``phone``, ...) are never vector-indexed, nor are attributes of the text
    (``message_type``, ``content_length``, ``body_url``). Being free text does not by
    itself raise ``pii_level``: that still comes from the name and the sampled values.

``critical``
    The column must carry a tag: it is an identifier (primary or foreign), has
    ``pii_level`` other than "none", is vector-indexed, or is a cursor-like column
    (``updated_at``, ``modified_at``, ``last_modified``, ``lastModifiedDate``, ``ts``,
    ``timestamp``, ``SystemModstamp``), which is critical with ``pii_level`` "none".
    ``created_at`` is deliberately not treated as a cursor.

Tables
    :func:`table_pii_level` is the maximum column level, :func:`table_vector_index` is
    true when any column is vector-indexed, and :func:`entity_type_for_table` maps a table
    name onto one of the allowed ``entity_type`` values: it drops a schema/database
    qualifier, staging prefixes (``raw_``, ``stg_``, ``dim_``, ...) and version/history
    suffixes (``_v2``, ``_history``, ``_snapshot``, ...), singularises the words
    (``companies`` -> ``company``, ``addresses`` -> ``address``), then tries the whole name
    and each word from the last (the head noun, ``channel_messages`` -> ``message``) to the
    first, exactly and through synonyms (``accounts`` -> company, ``people`` -> user,
    ``opportunities`` -> deal, ``transcripts`` -> call, ...), then an allowed value
    occurring inside the name (``crmcontactlist`` -> contact), and finally ``other`` if
    allowed, else the first allowed value.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

__all__ = [
    "PII_LEVELS",
    "ColumnProposal",
    "classify_column",
    "detect_value_kind",
    "entity_type_for_table",
    "luhn_valid",
    "table_pii_level",
    "table_vector_index",
]

PII_LEVELS: tuple[str, ...] = ("none", "low", "high", "sensitive")
_RANK: dict[str, int] = {level: rank for rank, level in enumerate(PII_LEVELS)}

VALUE_KIND_LEVEL: dict[str, str] = {
    "email": "high",
    "phone": "high",
    "ip": "high",
    "national_id": "sensitive",
    "card_number": "sensitive",
    "birth_date": "sensitive",
}
_VALUE_KIND_LABEL: dict[str, str] = {
    "email": "emails",
    "phone": "phone numbers",
    "ip": "IP addresses",
    "national_id": "national ids (SSN format)",
    "card_number": "card numbers (Luhn-valid)",
    "birth_date": "dates",
}

VECTOR_MIN_AVG_LENGTH = 200


def _words(text: str) -> frozenset[str]:
    """A set of words written as one space-separated string."""
    return frozenset(text.split())


@dataclass(frozen=True)
class ColumnProposal:
    """The metadata proposed for one column, with the reasons behind it."""

    pii_level: str
    is_primary_identifier: bool
    vector_index: bool
    critical: bool
    reasons: tuple[str, ...]


# --------------------------------------------------------------------------- names


def _tokens(name: str) -> tuple[str, ...]:
    """Split a column or table name into lower-case ASCII word tokens."""
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    return tuple(t for t in re.split(r"[^0-9a-z]+", text.lower()) if t)


def _has_seq(tokens: Sequence[str], seq: Sequence[str]) -> bool:
    n = len(seq)
    return any(tuple(tokens[i : i + n]) == tuple(seq) for i in range(len(tokens) - n + 1))


def _is_airbyte_meta(name: str) -> bool:
    lowered = name.strip().strip('"`').lower()
    return lowered.startswith(("_airbyte_", "_ab_cdc_"))


# --------------------------------------------------------------------------- data types


_NUMERIC_PREFIXES = tuple(
    sorted(
        _words(
            "int uint bigint smallint tinyint hugeint ubigint usmallint utinyint uhugeint byteint "
            "number numeric decimal float double real"
        )
    )
)
_TEXT_TYPES = frozenset(
    {
        "varchar",
        "text",
        "string",
        "char",
        "character",
        "character varying",
        "nvarchar",
        "nvarchar2",
        "varchar2",
        "nchar",
        "bpchar",
        "clob",
        "nclob",
        "tinytext",
        "mediumtext",
        "longtext",
        "ntext",
    }
)
_SEMI_PREFIXES = ("json", "variant", "object", "array", "struct", "map", "list", "union")
_BINARY_PREFIXES = ("blob", "binary", "varbinary", "bytea", "bytes", "geography", "geometry")


def _type_family(data_type: str) -> str:
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
    if base.startswith(_NUMERIC_PREFIXES):
        return "numeric"
    if base in _TEXT_TYPES:
        return "text"
    if base.startswith(_SEMI_PREFIXES):
        return "semi"
    if base.startswith(_BINARY_PREFIXES):
        return "binary"
    return "unknown"


def _declared_length(data_type: str) -> int | None:
    match = re.search(r"\(\s*(\d+)\s*\)", data_type)
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------- values


_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SSN_RE = re.compile(r"(\d{3})-(\d{2})-(\d{4})")
_CARD_RE = re.compile(r"\d[\d -]*\d")
_PHONE_RE = re.compile(r"(\+?)([\d().\s-]+?)(?:\s*(?:x|ext\.?)\s*\d{1,6})?", re.IGNORECASE)
_DECIMAL_RE = re.compile(r"\d+\.\d+")
_ISO_DATE_RE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DMY_DATE_RE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")
_ASCII_DIGITS = frozenset("0123456789")
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
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


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
    date -- the caller decides whether a date is a birth date) or None.
    """
    text = value.strip()
    if not text or len(text) > _MAX_EMAIL_LENGTH:
        return None
    if "@" in text:
        return "email" if _EMAIL_RE.fullmatch(text) else None
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


# --------------------------------------------------------------------------- name rules


@dataclass(frozen=True)
class _NameHit:
    level: str
    kind: str
    reason: str


_NEGATING_TOKENS = _words(
    "count counts cnt total type types status kind category flag flags enabled opt optout "
    "optin template format provider bounced domain length len size"
)
_NEGATING_FIRST = _words("is has num n count total should can")
_NEGATING_LAST = frozenset({"at", "on", "by"})
_ID_SUFFIXES = _words("id ids uuid guid key keys pk fk")

_SECRET_KEY_QUALIFIERS = _words("api secret private access encryption signing master license")
_NON_IDENTIFIER_KEY_QUALIFIERS = _words(
    "sort partition cluster clustering dist distribution cache foreign"
)
_SELF_ID_QUALIFIERS = _words("internal record object row primary surrogate unique")
# Prefixes of flattened camelCase ids such as CUSTOMERID (customerId upper-cased).
_COMPOUND_ID_PREFIXES = _words(
    "user customer account company contact deal call channel owner order invoice product "
    "message thread team org organization entity object record parent event session "
    "transaction employee person member ticket lead opportunity workspace tenant client "
    "vendor item campaign portal pipeline stage file meeting conversation workflow "
    "subsidiary department location internal external source row app bot"
)
_SELF_COMPOUND_IDS = frozenset({"internalid", "recordid", "objectid", "rowid"})

_CURSOR_TOKENS = _words(
    "updated modified lastmodified lastupdated lastmodifieddate lastmodifiedat modstamp "
    "systemmodstamp updatedat modifiedat updatedate modifieddate dateupdated datemodified"
)
_CURSOR_BLOCKING_LAST = _words("by user id count cnt flag reason note")

_PHONE_TOKENS = _words("phone phones mobile tel telephone fax msisdn cellphone")
_PHONE_COMPOUND_PREFIXES = _words("home work mobile cell business office contact primary main alt")

_PERSON_QUALIFIERS = _words(
    "first last full real given family middle maiden nick display preferred person "
    "contact owner customer client employee member author sender recipient receiver rep "
    "agent assignee assigned manager speaker attendee participant caller callee patient "
    "candidate applicant holder cardholder signer guest lead parent guardian spouse "
    "emergency student teacher beneficiary billing shipping creator editor reviewer "
    "approver requester reporter submitter"
)
_LOW_NAME_QUALIFIERS = _words(
    "company account org organization organisation business employer vendor supplier "
    "merchant subsidiary city"
)
_THING_NAME_QUALIFIERS = _words(
    "channel product deal opportunity file table column schema database db stage pipeline "
    "event campaign list property field tag label team group project task workspace app "
    "application host server domain metric model item plan category stream source "
    "connector role warehouse feature folder bucket branch repo repository service topic "
    "job report dashboard form queue region country state brand package module class "
    "function index bot emoji currency sku department location attachment meeting call "
    "type status"
)
_PERSON_NAME_COMPOUNDS = frozenset({"surname", "firstname", "lastname", "fullname", "realname"})

_TEXT_HINTS = _words(
    "transcript transcripts transcription body text content contents description notes "
    "note comment comments message messages summary bio biography abstract remarks "
    "feedback review answer question prompt response reply caption html markdown article"
)
_TEXT_HINT_SUFFIXES = ("text", "body", "content", "description", "notes", "transcript", "summary")
_TEXT_BLOCKING_LAST = _words(
    "type types status count cnt id ids key uuid format length len size hash url uri link "
    "at on date time ts language lang locale encoding version flag mime by index kind"
)


def _is_negated(tokens: Sequence[str]) -> bool:
    if tokens[0] in _NEGATING_FIRST or _has_seq(tokens[:2], ("number", "of")):
        return True
    return any(t in _NEGATING_TOKENS for t in tokens)


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
    return any(_has_seq(tokens, p) for p in phrases)


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
    return any(_has_seq(tokens, p) for p in phrases)


def _is_secret(tokens: Sequence[str]) -> bool:
    for i, t in enumerate(tokens):
        if any(word in t for word in ("password", "passwd", "passphrase", "secret", "credential")):
            return True
        if t in ("pwd", "token", "tokens", "apikey") or (len(t) > 5 and t.endswith("token")):
            return True
        if t in ("key", "keys") and i > 0 and tokens[i - 1] in _SECRET_KEY_QUALIFIERS:
            return True
    return False


def _is_email(tokens: Sequence[str]) -> bool:
    return any("email" in t for t in tokens) or _has_seq(tokens, ("e", "mail"))


def _is_ip_name(tokens: Sequence[str]) -> bool:
    return any(t in ("ip", "ipv4", "ipv6") or t.startswith("ipaddr") for t in tokens)


def _is_phone_name(tokens: Sequence[str]) -> bool:
    for t in tokens:
        if t in _PHONE_TOKENS or (t.startswith("phone") and not t.startswith(("phonet", "phonem"))):
            return True
        if t.endswith("phone") and t[: -len("phone")] in _PHONE_COMPOUND_PREFIXES:
            return True
    return False


def _address_hit(tokens: Sequence[str]) -> _NameHit | None:
    for i, t in enumerate(tokens):
        is_address = t.startswith(("address", "street")) or (
            len(t) > len("address") and t.endswith("address")
        )
        if is_address or t in ("addr", "zip", "zipcode", "postcode", "postal", "postalcode"):
            before = tokens[i - 1] if i > 0 else ""
            if before in ("web", "url", "website") or t in ("webaddress", "urladdress"):
                return None
            if before == "mac" or t == "macaddress":
                return _NameHit("low", "device_address", "name looks like a device (MAC) address")
            return _NameHit("high", "address", "name looks like a postal address column")
    return None


def _person_name_hit(tokens: Sequence[str]) -> _NameHit | None:
    """Classify ``<qualifier>_name`` columns by the nearest known qualifier."""
    for i, t in enumerate(tokens):
        if t in _PERSON_NAME_COMPOUNDS:
            return _NameHit("high", "person_name", "name looks like a person's name")
        if t in ("name", "names"):
            after = tokens[i + 1] if i + 1 < len(tokens) else ""
            if after in ("first", "last", "full", "given", "family", "middle"):
                return _NameHit("high", "person_name", "name looks like a person's name")
            return _qualified_name_hit(tokens[:i])
        if len(t) > len("name") and t.endswith("name"):
            prefix = t[: -len("name")]
            if prefix in ("user", "host", "file", "re", "code"):
                # username is a handle; hostname, filename, rename and codename are not people
                if prefix == "user":
                    return _NameHit("low", "handle", "name looks like a login handle")
                continue
            return _qualified_name_hit([*tokens[:i], prefix])
    if any(t in ("username", "login", "handle") for t in tokens):
        return _NameHit("low", "handle", "name looks like a login handle")
    return None


def _qualified_name_hit(qualifiers: Sequence[str]) -> _NameHit | None:
    for q in reversed(qualifiers):
        if q in _PERSON_QUALIFIERS:
            return _NameHit("high", "person_name", f"name looks like a person's name ({q} name)")
        if q in ("user", "login", "screen"):
            return _NameHit("low", "handle", "name looks like a login handle")
        if q in _LOW_NAME_QUALIFIERS:
            return _NameHit("low", "org_name", f"name looks like an organisation's name ({q})")
        if q in _THING_NAME_QUALIFIERS:
            return None
    return _NameHit("low", "name", "a generic name column may name a person")


def _name_pii(tokens: Sequence[str], family: str) -> _NameHit | None:
    """The PII a column name suggests, given what its data type can hold."""
    if not tokens or family in ("boolean", "binary") or _is_negated(tokens):
        return None
    if len(tokens) > 1 and tokens[-1] in _TEXT_HINTS:
        return None  # email_body, phone_notes: text about the value, judged as text
    if _is_birth(tokens):
        return _NameHit("sensitive", "birth_date", "name suggests a birth date")
    if family == "temporal" or tokens[-1] in _NEGATING_LAST:
        return None
    if _is_national_id(tokens):
        return _NameHit("sensitive", "national_id", "name looks like a national or tax id")
    secret_key = (
        tokens[-1] in ("key", "keys") and len(tokens) > 1 and (tokens[-2] in _SECRET_KEY_QUALIFIERS)
    )
    if tokens[-1] in _ID_SUFFIXES and not secret_key:
        return None  # a reference to another row (email_id), not the value itself
    if _is_card_name(tokens):
        return _NameHit("sensitive", "card_number", "name looks like payment card/bank data")
    if family == "numeric":
        if _is_phone_name(tokens):
            return _NameHit("high", "phone", "name looks like a phone column")
        return None
    if _is_secret(tokens):
        return _NameHit("sensitive", "secret", "name looks like a password, secret or token")
    if _is_email(tokens):
        return _NameHit("high", "email", "name looks like an email column")
    if _is_ip_name(tokens):
        return _NameHit("high", "ip", "name looks like an IP address column")
    if _is_phone_name(tokens):
        return _NameHit("high", "phone", "name looks like a phone column")
    address = _address_hit(tokens)
    if address is not None:
        return address
    if "city" in tokens:
        return _NameHit("low", "city", "name looks like a city (coarse location)")
    return _person_name_hit(tokens)


def _identifier(tokens: Sequence[str]) -> tuple[bool, bool]:
    """(is an identifier, is the row's own key) judged from the name alone."""
    if not tokens:
        return False, False
    last = tokens[-1]
    before = tokens[-2] if len(tokens) > 1 else ""
    if len(tokens) == 1 and last in ("id", "uuid", "guid", "pk", "key"):
        return True, True
    if last in ("key", "keys"):
        if before in _SECRET_KEY_QUALIFIERS:
            return False, False
        if before in _NON_IDENTIFIER_KEY_QUALIFIERS or not before:
            return before == "foreign", False
        return True, last == "key"
    if last in ("id", "ids", "uuid", "guid", "fk", "pk"):
        return True, last in ("id", "pk") and before in _SELF_ID_QUALIFIERS
    if last in _SELF_COMPOUND_IDS:
        return True, True
    if last.endswith(("id", "ids", "uuid", "guid")):
        stem = re.sub(r"(ids|id|uuid|guid)$", "", last)
        if stem in _COMPOUND_ID_PREFIXES:
            return True, False
    return False, False


def _is_cursor(tokens: Sequence[str], family: str) -> bool:
    if not tokens or family in ("boolean", "semi", "binary") or tokens[0] in _NEGATING_FIRST:
        return False
    if tokens[-1] == "ts" or tuple(tokens) == ("timestamp",):
        return True
    if tokens[-1] in _CURSOR_BLOCKING_LAST:
        return False
    return any(
        t in _CURSOR_TOKENS or "lastmodified" in t or "lastupdated" in t or "modstamp" in t
        for t in tokens
    )


def _has_text_hint(tokens: Sequence[str]) -> bool:
    if not tokens or tokens[-1] in _TEXT_BLOCKING_LAST or tokens[0] in _NEGATING_FIRST:
        return False
    return any(t in _TEXT_HINTS or t.endswith(_TEXT_HINT_SUFFIXES) for t in tokens)


# --------------------------------------------------------------------------- columns


def _max_level(levels: Sequence[str]) -> str:
    best = "none"
    for level in levels:
        if _RANK.get(level, 0) > _RANK[best]:
            best = level
    return best


def _value_hit(values: Sequence[str], birth_hint: bool) -> tuple[str, str] | None:
    """The (level, reason) the sampled values justify, if any."""
    if not values:
        return None
    counts: dict[str, int] = {}
    for value in values:
        kind = detect_value_kind(value)
        if kind is None or (kind == "birth_date" and not birth_hint):
            continue
        counts[kind] = counts.get(kind, 0) + 1
    total = len(values)
    qualifying = [
        (count, _RANK[VALUE_KIND_LEVEL[kind]], kind)
        for kind, count in counts.items()
        if count * 2 >= total and (count >= 2 or total == 1)
    ]
    if not qualifying:
        return None
    count, _, kind = max(qualifying)
    return VALUE_KIND_LEVEL[kind], f"{count}/{total} sampled values are {_VALUE_KIND_LABEL[kind]}"


@dataclass(frozen=True)
class _NameFacts:
    tokens: tuple[str, ...]
    family: str
    name_hit: _NameHit | None
    is_identifier: bool
    is_primary: bool
    cursor: bool


@functools.lru_cache(maxsize=16384)
def _name_facts(name: str, data_type: str) -> _NameFacts:
    """Everything the name and type alone decide; cached, since wide warehouses repeat
    the same column names across thousands of tables."""
    tokens = _tokens(name)
    family = _type_family(data_type)
    is_identifier, is_primary = _identifier(tokens)
    cursor = not is_identifier and _is_cursor(tokens, family)
    return _NameFacts(tokens, family, _name_pii(tokens, family), is_identifier, is_primary, cursor)


def classify_column(name: str, data_type: str, samples: Sequence[str | None]) -> ColumnProposal:
    """Propose pii_level, is_primary_identifier and vector_index for one column.

    ``samples`` are the column's sampled values as strings, ``None`` for NULL. See the
    module docstring for the rules; ``reasons`` says which of them fired.
    """
    if _is_airbyte_meta(name):
        return ColumnProposal("none", False, False, False, ("Airbyte metadata column",))

    facts = _name_facts(name, data_type)
    tokens, family, name_hit = facts.tokens, facts.family, facts.name_hit
    values = [s for s in samples if s is not None and s.strip()]
    reasons: list[str] = []

    levels = ["none"]
    if name_hit is not None:
        levels.append(name_hit.level)
        reasons.append(name_hit.reason)
    value_hit = _value_hit(
        values, birth_hint=name_hit is not None and name_hit.kind == "birth_date"
    )
    if value_hit is not None:
        levels.append(value_hit[0])
        reasons.append(value_hit[1])
    pii_level = _max_level(levels)

    is_identifier, is_primary, cursor = facts.is_identifier, facts.is_primary, facts.cursor
    if is_primary:
        reasons.append("name looks like the table's own key")
    elif is_identifier:
        reasons.append("name looks like an identifier (foreign key)")
    if cursor:
        reasons.append("name looks like a change cursor (updated/modified timestamp)")

    vector_index = False
    if family == "text" and not (is_identifier or cursor or name_hit is not None):
        length = _declared_length(data_type)
        if length is None or length >= VECTOR_MIN_AVG_LENGTH:
            average = sum(len(v) for v in values) / len(values) if values else 0.0
            if _has_text_hint(tokens):
                vector_index = True
                reasons.append("text column whose name suggests free text")
            elif average >= VECTOR_MIN_AVG_LENGTH:
                vector_index = True
                reasons.append(f"text column with long values (average {average:.0f} chars)")

    critical = is_identifier or pii_level != "none" or vector_index or cursor
    return ColumnProposal(pii_level, is_primary, vector_index, critical, tuple(reasons))


def table_pii_level(columns: Sequence[ColumnProposal]) -> str:
    """The highest pii_level among the columns ("none" for no columns)."""
    return _max_level([c.pii_level for c in columns])


def table_vector_index(columns: Sequence[ColumnProposal]) -> bool:
    """True when any column is proposed for vector indexing."""
    return any(c.vector_index for c in columns)


# --------------------------------------------------------------------------- tables


_TABLE_PREFIXES = _words(
    "raw stg staging src source int intermediate dim fct fact tmp temp base landing "
    "airbyte ab vw view"
)
_TABLE_SUFFIXES = _words(
    "history hist snapshot snapshots raw latest current archive archived backup bak old "
    "tmp temp view vw scd scd2 cdc stream staging stg"
)
_IRREGULAR_SINGULARS: dict[str, str] = {
    "people": "person",
    "persons": "person",
    "staff": "staff",
    "children": "child",
    "men": "man",
    "women": "woman",
    "data": "data",
    "media": "media",
    "series": "series",
    "news": "news",
    "analyses": "analysis",
    "indices": "index",
    "statuses": "status",
    "aliases": "alias",
}
_ENTITY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "account": ("company", "customer"),
    "organization": ("company",),
    "organisation": ("company",),
    "org": ("company",),
    "firm": ("company",),
    "business": ("company",),
    "person": ("user", "contact"),
    "member": ("user",),
    "login": ("user",),
    "email": ("message",),
    "mail": ("message",),
    "chat": ("message",),
    "dm": ("message",),
    "reply": ("message",),
    "post": ("message",),
    "conversation": ("channel", "message"),
    "room": ("channel",),
    "opportunity": ("deal",),
    "order": ("purchase",),
    "sale": ("purchase",),
    "transcript": ("call",),
    "meeting": ("call",),
    "recording": ("call",),
    "staff": ("employee",),
    "worker": ("employee",),
    "personnel": ("employee",),
    "client": ("customer",),
    "bill": ("invoice",),
    "item": ("product",),
    "sku": ("product",),
    "activity": ("event",),
    "engagement": ("event",),
    "file": ("document",),
    "doc": ("document",),
    "attachment": ("document",),
    "page": ("document",),
    "article": ("document",),
}


def _singular(word: str) -> str:
    if word in _IRREGULAR_SINGULARS:
        return _IRREGULAR_SINGULARS[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _strip_affixes(tokens: list[str]) -> list[str]:
    def is_suffix(t: str) -> bool:
        return t in _TABLE_SUFFIXES or t.isdigit() or re.fullmatch(r"v\d+", t) is not None

    kept = list(tokens)
    while len(kept) > 1 and kept[0] in _TABLE_PREFIXES:
        kept.pop(0)
    while len(kept) > 1 and is_suffix(kept[-1]):
        kept.pop()
    return kept


def entity_type_for_table(table: str, allowed: Sequence[str]) -> str:
    """Map a table name onto one of ``allowed`` (an ``entity_type`` tag's allowed values).

    Always returns a member of ``allowed``; raises ValueError when ``allowed`` is empty.
    """
    if not allowed:
        raise ValueError("entity_type_for_table needs at least one allowed value")
    by_key, needles = _entity_keys(tuple(allowed))

    bare = table.strip().split(".")[-1].strip().strip('"`[]')
    raw_tokens = _tokens(bare)
    tokens = _strip_affixes([_singular(t) for t in raw_tokens])

    def lookup(word: str) -> str | None:
        if word in by_key:
            return by_key[word]
        for candidate in _ENTITY_SYNONYMS.get(word, ()):
            if candidate in by_key:
                return by_key[candidate]
        return None

    if tokens:
        whole = lookup("_".join(tokens))
        if whole is not None:
            return whole
        for token in reversed(tokens):
            found = lookup(token)
            if found is not None:
                return found

    haystacks = ("".join(tokens), "".join(raw_tokens))
    for key, needle in needles:
        if any(needle in hay for hay in haystacks):
            return by_key[key]
    return by_key.get("other", allowed[0])


@functools.lru_cache(maxsize=64)
def _entity_keys(allowed: tuple[str, ...]) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """Normalised keys of the allowed values, and their substring needles (longest first)."""
    by_key: dict[str, str] = {}
    for value in allowed:
        key = "_".join(_singular(t) for t in _tokens(value)) or value.strip().lower()
        by_key.setdefault(key, value)
    needles = tuple(
        (key, needle)
        for key in sorted(by_key, key=len, reverse=True)
        if len(needle := re.sub(r"[^0-9a-z]+", "", key)) >= 3
    )
    return by_key, needles
