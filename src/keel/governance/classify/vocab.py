"""Word tables the name rules match against: pure data, no logic.

Each table is a set of lower-case tokens (see :func:`keel.governance.classify.names.tokens`).
Adding a word here changes what a rule matches; the rules themselves live in
:mod:`keel.governance.classify.names` as the ``NAME_RULES`` table.
"""

from __future__ import annotations

from collections.abc import Iterable

PII_LEVELS: tuple[str, ...] = ("none", "low", "high", "sensitive")
RANK: dict[str, int] = {level: rank for rank, level in enumerate(PII_LEVELS)}


def words(text: str) -> frozenset[str]:
    """A set of words written as one space-separated string."""
    return frozenset(text.split())


def max_level(levels: Iterable[str]) -> str:
    """The most sensitive of ``levels`` ("none" when empty)."""
    best = "none"
    for level in levels:
        if RANK.get(level, 0) > RANK[best]:
            best = level
    return best


# --------------------------------------------------------------------------- data types

NUMERIC_PREFIXES = tuple(
    sorted(
        words(
            "int uint bigint smallint tinyint hugeint ubigint usmallint utinyint uhugeint byteint "
            "number numeric decimal float double real"
        )
    )
)
TEXT_TYPES = frozenset(
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
SEMI_PREFIXES = ("json", "variant", "object", "array", "struct", "map", "list", "union")
BINARY_PREFIXES = ("blob", "binary", "varbinary", "bytea", "bytes", "geography", "geometry")

# --------------------------------------------------------------------------- name rules

NEGATING_TOKENS = words(
    "count counts cnt total type types status kind category flag flags enabled opt optout "
    "optin template format provider bounced domain length len size"
)
NEGATING_FIRST = words("is has num n count total should can")
NEGATING_LAST = frozenset({"at", "on", "by"})
ID_SUFFIXES = words("id ids uuid guid key keys pk fk")

SECRET_KEY_QUALIFIERS = words("api secret private access encryption signing master license")
NON_IDENTIFIER_KEY_QUALIFIERS = words(
    "sort partition cluster clustering dist distribution cache foreign"
)
SELF_ID_QUALIFIERS = words("internal record object row primary surrogate unique")
# Prefixes of flattened camelCase ids such as CUSTOMERID (customerId upper-cased).
COMPOUND_ID_PREFIXES = words(
    "user customer account company contact deal call channel owner order invoice product "
    "message thread team org organization entity object record parent event session "
    "transaction employee person member ticket lead opportunity workspace tenant client "
    "vendor item campaign portal pipeline stage file meeting conversation workflow "
    "subsidiary department location internal external source row app bot"
)
SELF_COMPOUND_IDS = frozenset({"internalid", "recordid", "objectid", "rowid"})

CURSOR_TOKENS = words(
    "updated modified lastmodified lastupdated lastmodifieddate lastmodifiedat modstamp "
    "systemmodstamp updatedat modifiedat updatedate modifieddate dateupdated datemodified"
)
CURSOR_BLOCKING_LAST = words("by user id count cnt flag reason note")

PHONE_TOKENS = words("phone phones mobile tel telephone fax msisdn cellphone")
PHONE_COMPOUND_PREFIXES = words("home work mobile cell business office contact primary main alt")

PERSON_QUALIFIERS = words(
    "first last full real given family middle maiden nick display preferred person "
    "contact owner customer client employee member author sender recipient receiver rep "
    "agent assignee assigned manager speaker attendee participant caller callee patient "
    "candidate applicant holder cardholder signer guest lead parent guardian spouse "
    "emergency student teacher beneficiary billing shipping creator editor reviewer "
    "approver requester reporter submitter"
)
LOW_NAME_QUALIFIERS = words(
    "company account org organization organisation business employer vendor supplier "
    "merchant subsidiary city"
)
THING_NAME_QUALIFIERS = words(
    "channel product deal opportunity file table column schema database db stage pipeline "
    "event campaign list property field tag label team group project task workspace app "
    "application host server domain metric model item plan category stream source "
    "connector role warehouse feature folder bucket branch repo repository service topic "
    "job report dashboard form queue region country state brand package module class "
    "function index bot emoji currency sku department location attachment meeting call "
    "type status"
)
PERSON_NAME_COMPOUNDS = frozenset({"surname", "firstname", "lastname", "fullname", "realname"})

TEXT_HINTS = words(
    "transcript transcripts transcription body text content contents description notes "
    "note comment comments message messages summary bio biography abstract remarks "
    "feedback review answer question prompt response reply caption html markdown article"
)
TEXT_HINT_SUFFIXES = ("text", "body", "content", "description", "notes", "transcript", "summary")
TEXT_BLOCKING_LAST = words(
    "type types status count cnt id ids key uuid format length len size hash url uri link "
    "at on date time ts language lang locale encoding version flag mime by index kind"
)

# Weak personal data (pii_level low): says something about a person, identifies no one.
WEAK_TOKENS = words(
    "timezone tz tzid locale language languages lang langs jobtitle seniority last4"
)
WEAK_PHRASES: tuple[tuple[str, ...], ...] = (
    ("time", "zone"),
    ("job", "title"),
    ("job", "function"),
    ("utc", "offset"),
    ("tz", "offset"),
    ("spoken", "language"),
)
