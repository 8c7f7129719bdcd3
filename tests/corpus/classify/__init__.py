"""The labelled classification corpus (corpus.txt) and its seeded sample values."""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.corpus.classify import billing, documents, values

CORPUS = Path(__file__).with_name("corpus.txt")
# How Airbyte lands JSON-schema types (keel's portable types, see keel.ingest.schema)
WAREHOUSE_TYPES = {
    "s": "VARCHAR",
    "dt": "TIMESTAMP WITH TIME ZONE",
    "i": "BIGINT",
    "n": "DOUBLE",
    "b": "BOOLEAN",
    "o": "JSON",
    "a": "JSON",
}


@dataclass(frozen=True)
class Case:
    connector: str
    stream: str
    column: str
    data_type: str
    generator: str
    label: str
    category: str
    split: str  # train or heldout
    provenance: str

    def samples(self, rows: int = 50) -> list[str | None]:
        """``rows`` seeded values, as the sampler would hand them over (text or NULL)."""
        seed = zlib.crc32(f"{self.connector}.{self.stream}.{self.column}".encode())
        rng = random.Random(seed)
        gen = _generator(self.generator)
        return [gen(rng) for _ in range(rows)]


def _generator(spec: str) -> values.Gen:
    if spec == "null":
        return lambda r: None
    if spec.startswith("maybe:"):
        return values.maybe(_generator(spec[len("maybe:") :]))
    if spec.startswith("enum:"):
        return values.enum(spec[len("enum:") :])
    if spec.startswith("doc:"):
        name = spec[len("doc:") :]
        build = getattr(documents, name, None) or getattr(billing, name)

        def document(r: random.Random) -> str:
            doc = build(r)
            return doc if isinstance(doc, str) else json.dumps(doc)

        return document
    gen = getattr(values, spec)
    return gen  # type: ignore[no-any-return]


def load() -> list[Case]:
    cases: list[Case] = []
    head: tuple[str, str, str, str] | None = None
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("@"):
            name, provenance, split = (p.strip() for p in line[1:].split("|"))
            connector, stream = name.split()
            head = (connector, stream, provenance, split)
            continue
        parts = line.split()
        if head is None or len(parts) < 5:
            raise ValueError(f"corpus.txt:{number}: malformed line {line!r}")
        column, kind, label, category = parts[0], parts[1], parts[-2], parts[-1]
        generator = " ".join(parts[2:-2])
        cases.append(
            Case(
                head[0],
                head[1],
                column,
                WAREHOUSE_TYPES[kind],
                generator,
                label,
                category,
                head[3],
                head[2],
            )
        )
    return cases
