"""Which columns of a gate sample are shown: only those known to be harmless.

Samples of failing rows travel far: the console, ``--json``, ``KEEL_DQ_FAILURES``,
``/api/status``, alerts and logs. A value is shown only when its column is *known*
to be harmless; everything else is masked (``***``, NULL stays NULL):

1. a column tagged (in its contract, or in the warehouse's tags) with ``pii_level``
   ``high`` or ``sensitive`` is masked, ``none`` or ``low`` is shown;
2. an untagged column is classified by its name and type with the rules of
   ``keel classify`` (:func:`keel.governance.classify_rules.classify_column`) before
   anything is sampled: ``high`` or ``sensitive`` is masked;
3. a column that cannot be classified (JSON, VARIANT, arrays, structs: values keel
   does not look inside) is masked;
4. after sampling, the untagged columns still shown are classified again with their
   sampled values (an e-mail in a column called ``contact``); a hit masks them in the
   sample before it is stored or shown.

Every masked column comes with its reason, for the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from keel.quality.checks import type_family

if TYPE_CHECKING:
    from keel.governance.classify.column import ColumnProposal

MASKED_LEVELS = frozenset({"high", "sensitive"})
MASK = "***"


def _classify(name: str, data_type: str, values: Sequence[str | None]) -> ColumnProposal:
    """keel classify's rules, imported when a gate samples failing rows (a passing gate,
    the common case, never needs them: the command starts faster)."""
    from keel.governance.classify_rules import classify_column

    return classify_column(name, data_type, values)


def before_sampling(
    columns: Sequence[tuple[str, str]], levels: Mapping[str, str | None]
) -> dict[str, str]:
    """Masked column -> reason, from tags (``levels``: column -> tagged pii_level, or None
    when untagged) and, for untagged columns, name-and-type classification."""
    masked: dict[str, str] = {}
    for name, data_type in columns:
        level = levels.get(name)
        if level is not None:
            if level in MASKED_LEVELS:
                masked[name] = f"tagged pii_level {level}"
            continue
        try:
            proposal = _classify(name, data_type, [])
        except Exception:  # the rules could not judge it: not known to be harmless
            masked[name] = "not classifiable"
            continue
        if proposal.pii_level in MASKED_LEVELS:
            why = "; ".join(proposal.reasons[:1]) or "by name"
            masked[name] = f"untagged, classified {proposal.pii_level} ({why})"
        elif proposal.pii_level == "none" and "Airbyte" in " ".join(proposal.reasons):
            continue
        elif type_family(data_type) == "json":
            masked[name] = "untagged and not classifiable (structured values)"
    return masked


def after_sampling(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    levels: Mapping[str, str | None],
    masked: dict[str, str],
) -> None:
    """Classify untagged, still-shown columns with their sampled values; mask hits in
    ``rows`` (keys are lower-case column names) and add them to ``masked``."""
    if not rows:
        return
    for name, data_type in columns:
        if name in masked or levels.get(name) is not None:
            continue
        key = name.lower()
        values = [None if r.get(key) is None else str(r.get(key)) for r in rows]
        try:
            proposal = _classify(name, data_type, values)
        except Exception:
            proposal = None
        if proposal is None or proposal.pii_level in MASKED_LEVELS:
            level = proposal.pii_level if proposal else "unknown"
            reasons = proposal.reasons if proposal else ()
            why = next((r for r in reasons if "value" in r), "by its values")
            masked[name] = f"untagged, classified {level} ({why})"
            for r in rows:
                if r.get(key) is not None:
                    r[key] = MASK


def note(masked: Mapping[str, str]) -> str | None:
    """One line for the report's notes, or None when nothing was masked."""
    if not masked:
        return None
    parts = [f"{c.lower()} ({why})" for c, why in sorted(masked.items())]
    return "masked in samples: " + ", ".join(parts)
