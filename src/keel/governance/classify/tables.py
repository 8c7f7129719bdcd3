"""Table names -> one of the allowed ``entity_type`` values."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from keel.governance.classify.names import tokens as _tokens
from keel.governance.classify.vocab import words as _words

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

    joined, raw_joined = "".join(tokens), "".join(raw_tokens)
    for key, needle in needles:
        if needle in joined or needle in raw_joined:
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
