"""``keel classify --write``: put classification proposals into the contracts for review.

A proposed table is appended to its source's contract with its columns, the
proposed tag metadata in ``meta`` (critical columns marked
``meta.keel.critical``) and a description asking for review; proposed new
columns of a known table are appended to that table. The file is rewritten
through YAML, keeping its leading comment block (other comments are lost, and
the command says so).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from keel.project.init import dump
from keel.project.loaded import CONTRACTS_DIR, Project
from keel.resources import ActualState, Proposal

REVIEW = "Proposed by keel classify: review and edit."


def _contract_file(project: Project, source: str) -> Path:
    for stream in project.streams.values():
        if stream.source == source:
            return project.root / stream.file
    return project.root / CONTRACTS_DIR / f"{source}.yml"


def _load(path: Path, source: str) -> tuple[str, dict[str, Any]]:
    if not path.exists():
        return "", {"version": 2, "sources": [{"name": source, "tables": []}]}
    text = path.read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines(keepends=True)[:50] if line.startswith("#"))
    return header, yaml.safe_load(text) or {"version": 2, "sources": []}


def write_proposals(
    project: Project, proposals: list[Proposal], actual: ActualState
) -> tuple[list[str], list[str]]:
    by_table: dict[tuple[str, str], dict[str, Proposal]] = {}
    table_props: dict[tuple[str, str], Proposal] = {}
    for p in proposals:
        parts = p.key.parts
        if p.key.object_type == "table":
            table_props[(parts[0], parts[1])] = p
        elif p.key.object_type == "column":
            by_table.setdefault((parts[0], parts[1]), {})[parts[2]] = p
    written: list[str] = []
    skipped: list[str] = []
    files: dict[Path, tuple[str, dict[str, Any]]] = {}
    for schema, table in sorted(set(by_table) | set(table_props)):
        ms = project.schema(schema)
        if ms is None or ms.source is None:
            skipped.append(f"{schema}.{table}: no source contract for schema {schema}")
            continue
        path = _contract_file(project, ms.source)
        if path not in files:
            files[path] = _load(path, ms.source)
        data = files[path][1]
        src = next((s for s in data.get("sources", []) if s.get("name") == ms.source), None)
        if src is None:
            src = {"name": ms.source, "tables": []}
            data.setdefault("sources", []).append(src)
        tables = src.setdefault("tables", [])
        entry = next((t for t in tables if str(t.get("name", "")).upper() == table), None)
        cols = by_table.get((schema, table), {})
        info = actual.tables.get((schema, table))
        if entry is None:
            tp = table_props.get((schema, table))
            meta: dict[str, Any] = {
                k: v
                for k, v in (tp.tag if tp else {}).items()
                if k not in ("data_source", "update_frequency")
            }
            pk = [c for c, p in cols.items() if p.tag.get("is_primary_identifier") == "true"]
            if pk:
                meta["keel"] = {"primary_key": [pk[0].lower()]}
            entry = {"name": table.lower(), "description": REVIEW, "meta": meta, "columns": []}
            tables.append(entry)
            for column, data_type in info.columns if info else ():
                if column.upper().startswith(("_AIRBYTE_", "_AB_")):
                    continue
                entry["columns"].append(_column(column, data_type, cols.get(column)))
            written.append(f"table {schema}.{table}")
        else:
            existing = {str(c.get("name", "")).upper() for c in entry.get("columns", [])}
            types = dict(info.columns) if info else {}
            for column, p in cols.items():
                if column not in existing:
                    entry.setdefault("columns", []).append(_column(column, types.get(column), p))
                    written.append(f"column {schema}.{table}.{column}")
    for path, (header, data) in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + dump(data), encoding="utf-8")
    return written, skipped


def _column(name: str, data_type: str | None, p: Proposal | None) -> dict[str, Any]:
    col: dict[str, Any] = {"name": name.lower()}
    if data_type:
        col["data_type"] = data_type.lower()
    if p is not None:
        col["description"] = REVIEW + " " + "; ".join(p.reasons)
        col["meta"] = {**p.tag, "keel": {"critical": True}}
        if p.tag.get("is_primary_identifier") == "true":
            col["data_tests"] = ["not_null", "unique"]
    return col
