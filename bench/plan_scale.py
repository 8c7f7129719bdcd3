"""Plan at scale: a DuckDB warehouse with N tables x 20 columns created outside keel.

Every table is unknown to the contracts, so the plan classifies all of them
(names, plus a bounded sample of text values when the table has rows) and
proposes a tag for each table and its critical columns. Records plan time and
the number of metadata queries per object kind, which must not grow with N.

Run: uv run python bench/plan_scale.py [--tables 1000 10000] [--rows 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from keel.context import Context
from keel.project.init import write_project

SCHEMAS = ["GONG_DATA_RAW", "HUBSPOT_DATA_RAW", "SLACK_DATA_RAW", "NETSUITE_DATA_RAW"]
COLUMNS = [
    ("ID", "VARCHAR", "'id-' || i"),
    ("EMAIL", "VARCHAR", "'user' || i || '@example.com'"),
    ("PHONE", "VARCHAR", "'+1 415 555 ' || lpad(CAST(i AS VARCHAR), 4, '0')"),
    ("FIRST_NAME", "VARCHAR", "'Ann'"),
    ("CREATED_AT", "TIMESTAMP", "TIMESTAMP '2026-01-01'"),
    ("UPDATED_AT", "TIMESTAMP", "TIMESTAMP '2026-01-02'"),
    ("STATUS", "VARCHAR", "'open'"),
    ("AMOUNT", "DOUBLE", "i * 1.5"),
    ("NOTES", "VARCHAR", "repeat('note ', 10)"),
    ("ACCOUNT_ID", "VARCHAR", "'acc-' || i"),
] + [(f"ATTR_{k}", "VARCHAR", f"'v{k}'") for k in range(10)]


def build(path: Path, tables: int, rows: int) -> None:
    con = duckdb.connect(str(path))
    cols = ", ".join(f"{n} {t}" for n, t, _ in COLUMNS)
    select = ", ".join(f"CAST({e} AS {t}) AS {n}" for n, t, e in COLUMNS)
    con.execute("BEGIN")
    for i in range(tables):
        name = f'"{SCHEMAS[i % 4]}"."T_{i:05d}"'
        if rows:
            con.execute(f"CREATE TABLE {name} AS SELECT {select} FROM range({rows}) r(i)")
        else:
            con.execute(f"CREATE TABLE {name} ({cols})")
    con.execute("COMMIT")
    con.close()


def run(tables: int, rows: int, work: Path) -> dict[str, object]:
    root = work / f"p{tables}_{rows}"
    write_project(root)
    with Context(root) as ctx:
        ctx.apply()  # the foundation: schemas, SOPHIA_OPS, roles
    build(root / ".keel/warehouse.duckdb", tables, rows)
    with Context(root) as ctx:
        load = os.getloadavg()[0]
        cpu = time.process_time()
        start = time.perf_counter()
        plan = ctx.plan()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        queries = dict(ctx.adapter.queries)
    return {
        "tables": tables,
        "rows_per_table": rows,
        "plan_s": round(elapsed, 2),
        # CPU seconds of this process (DuckDB's threads included): steadier than wall
        # time on a shared machine; the load average says how shared it was
        "plan_cpu_s": round(cpu, 2),
        "load_average_1m": round(load, 1),
        "changes": len(plan.changes),
        "metadata_queries": {k: v for k, v in sorted(queries.items()) if k != "sample"},
        "sample_queries": queries.get("sample", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rows", type=int, default=3, help="rows per table (0: empty tables)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="keel-bench-plan-"))
    try:
        results = [run(n, args.rows, work) for n in args.tables]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, duckdb {duckdb.__version__}",
        "results": results,
    }
    sys.stdout.write(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
