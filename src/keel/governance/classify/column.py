"""The matcher: one column's name, type and samples -> a :class:`ColumnProposal`."""

from __future__ import annotations

import functools
import json
import re
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
    name_hits,
    type_family,
)
from keel.governance.classify.names import (
    tokens as name_tokens,
)
from keel.governance.classify.structured import key_name, leaves, parse_documents, value_type
from keel.governance.classify.text import (
    is_handle,
    is_job_title,
    is_name_shaped,
    is_person_name,
    personal_emails,
    scan_text,
)
from keel.governance.classify.values import VALUE_KIND_LABEL, VALUE_KIND_LEVEL, detect_value_kind

VECTOR_MIN_AVG_LENGTH = 200
TEXT_MENTION_SHARE = 0.2  # free text: this share of values mentioning people -> high
PERSON_NAME_SHARE = 0.5  # short values: this share being person names -> high
MIN_VALUES_TO_OVERRULE = 3  # fewer sampled values never overrule a name
_ENUM_RE = re.compile(r"[a-z][a-z_]*|[A-Z][A-Z_]+")
_NOT_OVERRULED = frozenset({"weak", "secret", "birth_date"})


@dataclass(frozen=True)
class Evidence:
    """One rule that fired (or was overruled) for a column, with its share of values."""

    # name, name_overruled, values, person_names, job_titles, free_text, json_keys, airbyte_meta,
    # no_match (nothing fired: what was looked at)
    rule: str
    level: str
    detail: str
    matched: int = 0
    sampled: int = 0
    keys: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"rule": self.rule, "pii_level": self.level, "detail": self.detail}
        if self.sampled:
            out["share"] = f"{self.matched}/{self.sampled}"
        if self.keys:
            out["keys"] = list(self.keys)
        return out


@dataclass(frozen=True)
class ColumnProposal:
    """The metadata proposed for one column, with the reasons behind it."""

    pii_level: str
    is_primary_identifier: bool
    vector_index: bool
    critical: bool
    reasons: tuple[str, ...]
    evidence: tuple[Evidence, ...] = ()


def _max_level(levels: Sequence[str]) -> str:
    return V.max_level(levels)


def _value_hit(values: Sequence[str], birth_hint: bool) -> Evidence | None:
    """What the sampled values justify, judged value by value, if anything."""
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
    detail = f"{count}/{total} sampled values are {VALUE_KIND_LABEL[kind]}"
    return Evidence("values", VALUE_KIND_LEVEL[kind], detail, count, total)


def _text(sample: object) -> str:
    """A sample as text (callers hand strings; raw values are tolerated)."""
    if isinstance(sample, str):
        return sample
    if isinstance(sample, dict | list):
        return json.dumps(sample, default=str)
    return str(sample)


def _enum_like(values: Sequence[str]) -> bool:
    return all(_ENUM_RE.fullmatch(v.strip()) for v in values)


def _contradiction(kind: str, values: Sequence[str]) -> str | None:
    """Why the sampled values contradict a name rule of ``kind``, or None."""
    if kind in _NOT_OVERRULED or len(values) < MIN_VALUES_TO_OVERRULE:
        return None
    total = len(values)
    if _enum_like(values) and not any(is_handle(v) for v in values):
        # (lower-case given names, ``ann``, are not codes)
        return f"{total}/{total} sampled values are enum-like codes"
    if kind == "email" and not any(personal_emails(v) for v in values):
        return f"0/{total} sampled values contain an email address"
    if kind == "phone" and not any(sum(c.isdigit() for c in v) >= 7 for v in values):
        return f"0/{total} sampled values hold 7 or more digits"
    if kind == "ip" and not any(detect_value_kind(v) == "ip" for v in values):
        return f"0/{total} sampled values are IP addresses"
    if kind in ("card_number", "national_id") and not any(
        sum(c.isdigit() for c in v) >= 4 for v in values
    ):
        return f"0/{total} sampled values hold 4 or more digits"
    if kind in ("person_name", "name", "handle") and not any(is_name_shaped(v) for v in values):
        return f"0/{total} sampled values look like a person's name"
    if kind == "name" and not any(is_person_name(v) or is_handle(v) for v in values):
        return f"0/{total} sampled values are person names (names of things)"
    return None


def _people_in_values(values: Sequence[str], tokens: Sequence[str]) -> Evidence | None:
    """Person names as whole values, or people mentioned in free text."""
    total = len(values)
    if total == 0:
        return None
    names = sum(1 for v in values if is_person_name(v))
    if names >= 2 and names >= total * PERSON_NAME_SHARE:
        return Evidence(
            "person_names", "high", f"{names}/{total} sampled values are person names", names, total
        )
    titles = sum(1 for v in values if is_job_title(v))
    if titles >= 2 and titles >= total * PERSON_NAME_SHARE:
        detail = f"{titles}/{total} sampled values are job titles"
        return Evidence("job_titles", "low", detail, titles, total)
    words = sum(len(v.split()) for v in values) / total
    if words < 2 and not has_text_hint(tokens):
        return None
    scan = scan_text(list(values))
    if scan.mentioning >= 2 and scan.mentioning >= total * TEXT_MENTION_SHARE:
        return Evidence("free_text", "high", scan.summary(), scan.mentioning, total)
    return None


def _json_keys(name: str, docs: list[object], depth: int) -> Evidence | None:
    """The most sensitive key of sampled JSON documents, naming the keys at that level."""
    by_level: dict[str, list[tuple[str, ColumnProposal]]] = {}
    for path, leaf_values in leaves(docs).items():
        proposal = _classify(key_name(path, name), value_type(leaf_values), leaf_values, depth + 1)
        if proposal.pii_level != "none":
            by_level.setdefault(proposal.pii_level, []).append((path or "[]", proposal))
    if not by_level:
        return None
    level = V.max_level(by_level)
    hits = by_level[level]
    keys = tuple(path for path, _ in hits)
    first = hits[0][1]
    why = first.reasons[0] if first.reasons else level
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    return Evidence("json_keys", level, f"JSON keys {shown} ({why})", len(docs), len(docs), keys)


@dataclass(frozen=True)
class _NameFacts:
    tokens: tuple[str, ...]
    family: str
    hits: tuple[NameHit, ...]
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
    return _NameFacts(tokens, family, name_hits(tokens, family), is_identifier, is_primary, cursor)


def classify_column(name: str, data_type: str, samples: Sequence[str | None]) -> ColumnProposal:
    """Propose pii_level, is_primary_identifier and vector_index for one column.

    ``samples`` are the column's sampled values as strings, ``None`` for NULL. See
    :mod:`keel.governance.classify_rules` for the rules; ``reasons`` says which of them
    fired and ``evidence`` the same with the share of sampled values behind each.
    """
    key = tuple(samples)
    try:
        return _classify_cached(name, data_type, key)
    except TypeError:  # an unhashable sample (a caller passing raw rows): not memoised
        return _classify(name, data_type, key, 0)


@functools.lru_cache(maxsize=32768)
def _classify_cached(name: str, data_type: str, samples: tuple[str | None, ...]) -> ColumnProposal:
    """A pure function of its arguments, so memoised: wide warehouses repeat the same
    columns with the same sampled values (one stream landed per tenant or per schema)."""
    return _classify(name, data_type, samples, 0)


def _classify(
    name: str, data_type: str, samples: Sequence[str | None], depth: int
) -> ColumnProposal:
    if is_airbyte_meta(name):
        return ColumnProposal(
            "none",
            False,
            False,
            False,
            ("Airbyte metadata column",),
            (Evidence("airbyte_meta", "none", "Airbyte metadata column"),),
        )
    facts = _name_facts(name, data_type)
    tokens, family = facts.tokens, facts.family
    values = [t for t in (_text(s) for s in samples if s is not None) if t.strip()]
    docs = None
    if values and family in ("semi", "text", "unknown") and depth < 3:
        docs = parse_documents(values)
    judged = [v for vs in leaves(docs).values() for v in vs] if docs is not None else values

    evidence: list[Evidence] = []
    name_hit: NameHit | None = None
    for hit in facts.hits:
        why_not = _contradiction(hit.kind, judged)
        if why_not is None:
            name_hit = hit
            evidence.append(Evidence("name", hit.level, hit.reason))
            break
        evidence.append(Evidence("name_overruled", "none", f"{hit.reason}, but {why_not}"))
    if docs is not None:
        found = _json_keys(name, docs, depth)
        if found is not None:
            evidence.append(found)
    else:
        birth = name_hit is not None and name_hit.kind == "birth_date"
        value_hit = _value_hit(values, birth_hint=birth)
        if value_hit is not None:
            evidence.append(value_hit)
        elif family in ("text", "unknown"):
            people = _people_in_values(values, tokens)
            if people is not None:
                evidence.append(people)
    pii_level = V.max_level(e.level for e in evidence)
    reasons = [e.detail for e in evidence]
    if not evidence:  # say what was looked at, so `keel classify --json` never shows no evidence
        what = f"{len(values)} sampled values" if values else "no sampled values"
        evidence.append(Evidence("no_match", "none", f"no rule matched the name or {what}"))

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
    return ColumnProposal(
        pii_level, is_primary, vector_index, critical, tuple(reasons), tuple(evidence)
    )


def table_pii_level(columns: Sequence[ColumnProposal]) -> str:
    """The highest pii_level among the columns ("none" for no columns)."""
    return _max_level([c.pii_level for c in columns])


def table_vector_index(columns: Sequence[ColumnProposal]) -> bool:
    """True when any column is proposed for vector indexing."""
    return any(c.vector_index for c in columns)
