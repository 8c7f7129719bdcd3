"""Recall and precision of keel's classification on the labelled corpus.

A column is *personal* when its label is not ``none``. Overall recall is the share of
personal columns that keel flags (any level but ``none``); overall precision is the
share of flagged columns that are personal. Per category: recall for the personal
categories (flagged at all, and flagged at exactly the labelled level), and for the
non-personal categories the share wrongly flagged. Per level: precision of the level
(columns proposed at that level whose label is that level).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from tests.corpus.classify import Case, load

from keel.governance.classify_rules import ColumnProposal, classify_column


@dataclass
class Score:
    cases: list[tuple[Case, ColumnProposal]] = field(default_factory=list)

    def _flagged(self) -> list[tuple[Case, ColumnProposal]]:
        return [(c, p) for c, p in self.cases if p.pii_level != "none"]

    @property
    def recall(self) -> float:
        personal = [(c, p) for c, p in self.cases if c.label != "none"]
        return sum(p.pii_level != "none" for _, p in personal) / max(len(personal), 1)

    @property
    def precision(self) -> float:
        flagged = self._flagged()
        return sum(c.label != "none" for c, _ in flagged) / max(len(flagged), 1)

    @property
    def level_accuracy(self) -> float:
        personal = [(c, p) for c, p in self.cases if c.label != "none"]
        return sum(p.pii_level == c.label for c, p in personal) / max(len(personal), 1)

    def by_category(self) -> dict[str, tuple[int, int, int]]:
        """category -> (columns, flagged, flagged at the labelled level)."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for c, p in self.cases:
            key = f"{'personal' if c.label != 'none' else 'not personal'}: {c.category}"
            row = out[key]
            row[0] += 1
            row[1] += p.pii_level != "none"
            row[2] += p.pii_level == c.label
        return {k: (v[0], v[1], v[2]) for k, v in sorted(out.items())}

    def by_level(self) -> dict[str, tuple[int, int]]:
        """proposed level -> (columns proposed at it, of which labelled at it)."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for c, p in self.cases:
            out[p.pii_level][0] += 1
            out[p.pii_level][1] += c.label == p.pii_level
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def mistakes(self) -> list[str]:
        return [
            f"{c.connector}.{c.stream}.{c.column}: labelled {c.label}, proposed {p.pii_level}"
            f" ({'; '.join(p.reasons[:2])})"
            for c, p in self.cases
            if (c.label == "none") != (p.pii_level == "none") or c.label != p.pii_level
        ]


def run(split: str | None = None, rows: int = 50) -> Score:
    score = Score()
    for case in load():
        if split is None or case.split == split:
            score.cases.append(
                (case, classify_column(case.column, case.data_type, case.samples(rows)))
            )
    return score
