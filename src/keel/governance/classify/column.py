"""The matcher: one column's name, type and samples -> a :class:`ColumnProposal`."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from keel.governance.classify import vocab as V
from keel.governance.classify.names import (
    NameHit,
    declared_length,
    has_text_hint,
    identifier,
    is_airbyte_meta,
    is_cursor,
    name_pii,
    type_family,
)
from keel.governance.classify.names import (
    tokens as name_tokens,
)
from keel.governance.classify.values import VALUE_KIND_LABEL, VALUE_KIND_LEVEL, detect_value_kind

VECTOR_MIN_AVG_LENGTH = 200


@dataclass(frozen=True)
class ColumnProposal:
    """The metadata proposed for one column, with the reasons behind it."""

    pii_level: str
    is_primary_identifier: bool
    vector_index: bool
    critical: bool
    reasons: tuple[str, ...]


def _max_level(levels: Sequence[str]) -> str:
    best = "none"
    for level in levels:
        if V.RANK.get(level, 0) > V.RANK[best]:
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
        (count, V.RANK[VALUE_KIND_LEVEL[kind]], kind)
        for kind, count in counts.items()
        if count * 2 >= total and (count >= 2 or total == 1)
    ]
    if not qualifying:
        return None
    count, _, kind = max(qualifying)
    return VALUE_KIND_LEVEL[kind], f"{count}/{total} sampled values are {VALUE_KIND_LABEL[kind]}"


@dataclass(frozen=True)
class _NameFacts:
    tokens: tuple[str, ...]
    family: str
    name_hit: NameHit | None
    is_identifier: bool
    is_primary: bool
    cursor: bool


@functools.lru_cache(maxsize=16384)
def _name_facts(name: str, data_type: str) -> _NameFacts:
    """Everything the name and type alone decide; cached, since wide warehouses repeat
    the same column names across thousands of tables."""
    tokens = name_tokens(name)
    family = type_family(data_type)
    is_identifier, is_primary = identifier(tokens)
    cursor = not is_identifier and is_cursor(tokens, family)
    return _NameFacts(tokens, family, name_pii(tokens, family), is_identifier, is_primary, cursor)


def classify_column(name: str, data_type: str, samples: Sequence[str | None]) -> ColumnProposal:
    """Propose pii_level, is_primary_identifier and vector_index for one column.

    ``samples`` are the column's sampled values as strings, ``None`` for NULL. See the
    module docstring for the rules; ``reasons`` says which of them fired.
    """
    if is_airbyte_meta(name):
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
        length = declared_length(data_type)
        if length is None or length >= VECTOR_MIN_AVG_LENGTH:
            average = sum(len(v) for v in values) / len(values) if values else 0.0
            if has_text_hint(tokens):
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
