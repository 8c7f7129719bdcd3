"""The gate against its peers on the same DuckDB data (issue 4's benchmark).

Part 1, a 5,000,000-row batch (hubspot.contacts, nothing promoted yet) with six checks:
not_null x2 (id, email), unique (id, the primary key), accepted_values (lifecycle_stage),
relationships (company_id -> a promoted 100,000-row companies table), row_count:

- ``keel_in_process``: :func:`keel.quality.gate.gate` with an open Context (what
  ``keel serve`` pays);
- ``keel_command``: ``keel gate hubspot.contacts`` as a process;
- ``dbt_test``: ``dbt test`` (dbt-core 1.11 + dbt-duckdb) on the same table, the same
  tests (row_count as a one-line generic test: dbt_expectations needs the network);
- ``lower_bound``: hand-written SQL, all six checks in two queries.

Part 2, a micro-batch: 10,000 new rows on a 10,000,000-row promoted table, ``keel gate``
as a command vs ``dbt test`` on the table, end to end: first without a promised lateness
(the read covers the lookback, here the whole backfill), then after a batch published
under ``max_lateness_seconds`` (the read floor at the watermark); and ``keel gate`` as a
command while ``keel serve`` runs for the project (production: the server owns the
warehouse and the command runs the gate inside it, through ``.keel/serve.json``).

Run: uv run python bench/gate.py [--runs 3] [--dbt PATH] [--rows 5000000] [--big 10000000]
dbt is a benchmark dependency only: pass --dbt (or put dbt on PATH, or set KEEL_DBT);
without it the dbt columns are left out. Prints JSON; bench/README.md records results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

# the `keel` executable the install puts beside Python (what a user types), else -m keel
_EXE = Path(sys.executable).with_name("keel")
KEEL = [str(_EXE)] if _EXE.exists() else [sys.executable, "-m", "keel"]
STAGES = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
]
# commands run as in a normal installation: bytecode cached (here under the work folder,
# so nothing is written into the source tree), no colours, no dbt telemetry
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV.update({"NO_COLOR": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"})


def contract(max_rows: int, lateness: float | None = None) -> dict[str, Any]:
    """The contract of both parts. ``lateness``: the loader's promised lateness in seconds
    (``meta.keel.max_lateness_seconds``; None: no promise, the default)."""
    keel_meta: dict[str, Any] = {"primary_key": ["id"], "cursor": "updated_at"}
    if lateness is not None:
        keel_meta["max_lateness_seconds"] = lateness
    rel = {"relationships": {"arguments": {"to": "source('hubspot', 'companies')", "field": "id"}}}
    return {
        "version": 2,
        "sources": [
            {
                "name": "hubspot",
                "schema": "HUBSPOT_DATA_RAW",
                "tables": [
                    {
                        "name": "companies",
                        "meta": {
                            "entity_type": "company",
                            "keel": {"primary_key": ["id"], "cursor": "updated_at"},
                        },
                        "columns": [
                            {"name": "id", "data_type": "varchar"},
                            {"name": "name", "data_type": "varchar"},
                            {"name": "updated_at", "data_type": "timestamp"},
                        ],
                    },
                    {
                        "name": "contacts",
                        "meta": {"entity_type": "contact", "keel": keel_meta},
                        "data_tests": [
                            {"row_count": {"arguments": {"min_value": 1, "max_value": max_rows}}}
                        ],
                        "columns": [
                            {
                                "name": "id",
                                "data_type": "varchar",
                                "data_tests": ["not_null", "unique"],
                            },
                            {
                                "name": "email",
                                "data_type": "varchar",
                                "meta": {"pii_level": "high"},
                                "data_tests": ["not_null"],
                            },
                            {"name": "company_id", "data_type": "varchar", "data_tests": [rel]},
                            {
                                "name": "lifecycle_stage",
                                "data_type": "varchar",
                                "data_tests": [
                                    {"accepted_values": {"arguments": {"values": STAGES}}}
                                ],
                            },
                            {"name": "updated_at", "data_type": "timestamp"},
                        ],
                    },
                ],
            }
        ],
    }


def timed(fn: Callable[[], object], runs: int) -> float:
    """Median of ``runs`` after one warm-up run (caches, bytecode, dbt's partial parse)."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return round(statistics.median(samples), 3)


def interleaved(
    a: Callable[[], object], b: Callable[[], object], runs: int
) -> tuple[list[float], list[float]]:
    """Seconds of ``runs`` runs of each, taken in turn (a, b, a, b, ...)."""
    out: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, samples in ((a, out[0]), (b, out[1])):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    return out


def run(cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> None:
    done = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    if done.returncode not in ok:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )


def write_contract(root: Path, max_rows: int, lateness: float | None = None) -> None:
    (root / "contracts" / "hubspot.yml").write_text(yaml.safe_dump(contract(max_rows, lateness)))


def make_project(root: Path, max_rows: int) -> Path:
    from keel.project.init import write_project

    write_project(root)
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()
    write_contract(root, max_rows)
    return root


def land(con: Any, rows: int, start: int = 0, minute: int = 0) -> None:
    """RAW contacts rows [start, start+rows) in one sync (one _AIRBYTE_EXTRACTED_AT)."""
    stages = ", ".join(f"'{s}'" for s in STAGES)
    con.execute(f"""
        INSERT INTO "HUBSPOT_DATA_RAW"."CONTACTS"
        SELECT 'p' || i, 'e' || i || '@example.com', 'c' || (i % 100000),
               [{stages}][1 + i % 8], TIMESTAMPTZ '2026-01-01' + INTERVAL (i % 86400) SECOND,
               'r' || i, TIMESTAMPTZ '2026-01-02' + INTERVAL ({minute}) MINUTE, '{{}}', 1
        FROM range({start}, {start + rows}) t(i)""")


def setup(root: Path, contacts: int) -> None:
    """Schemas and ops tables (keel apply), 100,000 promoted companies, RAW contacts."""
    run([*KEEL, "apply", "--yes", "--project", str(root)], root)
    import duckdb

    con = duckdb.connect(str(root / ".keel" / "warehouse.duckdb"))
    con.execute("""CREATE TABLE "HUBSPOT_DATA_RAW"."COMPANIES" AS SELECT 'c' || i AS "ID",
        'Company ' || i AS "NAME", TIMESTAMPTZ '2026-01-01' AS "UPDATED_AT",
        'rc' || i AS "_AIRBYTE_RAW_ID", TIMESTAMPTZ '2026-01-01' AS "_AIRBYTE_EXTRACTED_AT",
        '{}'::JSON AS "_AIRBYTE_META", 1::BIGINT AS "_AIRBYTE_GENERATION_ID"
        FROM range(100000) t(i)""")
    con.execute("""CREATE TABLE "HUBSPOT_DATA_RAW"."CONTACTS" ("ID" VARCHAR, "EMAIL" VARCHAR,
        "COMPANY_ID" VARCHAR, "LIFECYCLE_STAGE" VARCHAR, "UPDATED_AT" TIMESTAMPTZ,
        "_AIRBYTE_RAW_ID" VARCHAR, "_AIRBYTE_EXTRACTED_AT" TIMESTAMPTZ, "_AIRBYTE_META" JSON,
        "_AIRBYTE_GENERATION_ID" BIGINT)""")
    land(con, contacts)
    con.close()
    run([*KEEL, "promote", "hubspot.companies", "--project", str(root)], root)


def lower_bound(con: Any, schema: str) -> tuple[Any, ...]:
    t = f'"{schema}"."CONTACTS"'
    stages = ", ".join(f"'{s}'" for s in STAGES)
    one = con.execute(f"""SELECT count(*) FILTER (WHERE "ID" IS NULL),
        count(*) FILTER (WHERE "EMAIL" IS NULL),
        count(DISTINCT "LIFECYCLE_STAGE") FILTER (WHERE "LIFECYCLE_STAGE" NOT IN ({stages})),
        count(*) FROM {t}""").fetchall()[0]
    two = con.execute(f"""SELECT
        (SELECT count(*) FROM (SELECT "ID" FROM {t} WHERE "ID" IS NOT NULL GROUP BY "ID"
         HAVING count(*) > 1)),
        (SELECT count(*) FROM {t} c LEFT JOIN "HUBSPOT_DATA"."COMPANIES" p
         ON c."COMPANY_ID" = p."ID" WHERE c."COMPANY_ID" IS NOT NULL AND p."ID" IS NULL)
        """).fetchall()[0]
    return (*one, *two)


def dbt_project(root: Path, schema: str, max_rows: int) -> Path:
    """The same tests for dbt: the contract, unchanged but for the schema and row_count."""
    project = root / "dbt"
    shutil.rmtree(project, ignore_errors=True)
    (project / "models").mkdir(parents=True)
    (project / "macros").mkdir()
    (project / "dbt_project.yml").write_text(
        yaml.safe_dump({"name": "bench", "version": "1.0", "profile": "bench", "config-version": 2})
    )
    (project / "profiles.yml").write_text(
        yaml.safe_dump(
            {
                "bench": {
                    "target": "dev",
                    "outputs": {
                        "dev": {
                            "type": "duckdb",
                            "path": str(root / ".keel" / "warehouse.duckdb"),
                            "threads": os.cpu_count() or 1,
                        }
                    },
                }
            }
        )
    )
    (project / "macros" / "row_count.sql").write_text(
        "{% test row_count(model, min_value, max_value) %}\n"
        "select count(*) from {{ model }} having not (count(*) between {{ min_value }} "
        "and {{ max_value }})\n{% endtest %}\n"
    )
    contacts = contract(max_rows)["sources"][0]["tables"][1]
    rel = contacts["columns"][2]["data_tests"][0]["relationships"]["arguments"]
    rel["to"] = "source('promoted', 'companies')"  # the promoted parent, as keel's gate sees
    doc = {
        "version": 2,
        "sources": [
            {"name": "hubspot", "schema": schema, "tables": [contacts]},
            {"name": "promoted", "schema": "HUBSPOT_DATA", "tables": [{"name": "companies"}]},
        ],
    }
    (project / "models" / "sources.yml").write_text(yaml.safe_dump(doc))
    return project


def find_dbt(given: str | None) -> str | None:
    """An absolute path: dbt runs from the generated project's folder."""
    found = given or os.environ.get("KEEL_DBT") or shutil.which("dbt")
    if found is None:
        return None
    path = Path(found) if "/" in found else Path(shutil.which(found) or found)
    if not path.exists():
        sys.exit(f"bench/gate.py: no dbt at {found}")
    return str(path.absolute())


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    except OSError:
        mem = 0
    import duckdb

    return (
        f"{cpu}, {os.cpu_count()} cores, {mem} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}"
    )


def part1(work: Path, rows: int, runs: int, dbt: str | None) -> dict[str, Any]:
    root = make_project(work / "p1", rows)
    setup(root, rows)
    from keel.context import Context
    from keel.quality.gate import gate

    out: dict[str, Any] = {"rows": rows}
    with Context(root) as ctx:
        report = gate(ctx.project, ctx.adapter, "hubspot.contacts")
        s = report.streams[0]
        assert s.status == "passed" and s.batch is not None and s.batch.rows == rows, s.reason
        out["checks"] = [f"{r.check.name}({r.check.column or ''})" for r in s.checks]
        out["keel_in_process_s"] = timed(
            lambda: gate(ctx.project, ctx.adapter, "hubspot.contacts"), runs
        )
        con = ctx.adapter.conn  # type: ignore[attr-defined]
        assert lower_bound(con, "HUBSPOT_DATA_RAW") == (0, 0, 0, rows, 0, 0)
        out["lower_bound_s"] = timed(lambda: lower_bound(con, "HUBSPOT_DATA_RAW"), runs)
    out["keel_command_s"] = timed(
        lambda: run([*KEEL, "gate", "hubspot.contacts", "--project", str(root)], root), runs
    )
    if dbt:
        project = dbt_project(root, "HUBSPOT_DATA_RAW", rows)
        cmd = [dbt, "test", "--project-dir", str(project), "--profiles-dir", str(project)]
        run(cmd, project)
        out["dbt_test_s"] = timed(lambda: run(cmd, project), runs)
    bound = out["lower_bound_s"]
    out["ratios_to_lower_bound"] = {
        k[:-2]: round(v / bound, 2) for k, v in out.items() if k.endswith("_s")
    }
    return out


def with_server(root: Path, fn: Callable[[], float]) -> float:
    """``fn()`` while ``keel serve`` runs for the project (started here, stopped cleanly)."""
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {**ENV, "KEEL_WEBHOOK_TOKEN": "bench-token"}
    cmd = [*KEEL, "serve", "--no-poll", "--port", str(port), "--project", str(root)]
    log = (root / "serve.log").open("w")
    server = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"keel serve did not start:\n{(root / 'serve.log').read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    pass
                if (root / ".keel" / "serve.json").exists():
                    break
            except OSError:
                pass
            time.sleep(0.1)
        return fn()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        log.close()


def part2(work: Path, big: int, batch: int, runs: int, dbt: str | None) -> dict[str, Any]:
    """A micro-batch on a freshly backfilled table, gated twice: first with the loader's
    lateness undeclared (the gate reads the 72-hour lookback below the watermark, which
    holds the whole backfill, and leaves out the judged ids), then after one batch was
    published under a promised lateness (``max_lateness_seconds``: the read floor moved to the
    watermark, so the gate reads the new rows alone)."""
    root = make_project(work / "p2", big + 3 * batch)
    setup(root, big)
    start = time.perf_counter()
    run([*KEEL, "promote", "hubspot.contacts", "--project", str(root)], root)
    out: dict[str, Any] = {
        "table_rows": big,
        "batch_rows": batch,
        "first_promote_s": round(time.perf_counter() - start, 1),
    }
    import duckdb

    gate_cmd = [*KEEL, "gate", "hubspot.contacts", "--json", "--project", str(root)]

    def land_batch(n: int) -> None:  # 10,000 new keys in one later sync
        con = duckdb.connect(str(root / ".keel" / "warehouse.duckdb"))
        land(con, batch, start=big + n * batch, minute=5 * (n + 1))
        con.close()

    def gate_once() -> None:
        done = subprocess.run(gate_cmd, cwd=root, env=ENV, capture_output=True, text=True)
        stream = json.loads(done.stdout)["streams"][0]
        assert stream["status"] == "passed" and stream["batch"]["rows"] == batch, done.stderr

    land_batch(0)
    gate_once()
    out["keel_gate_command_lookback_s"] = timed(lambda: run(gate_cmd, root), runs)
    # promise the loader's lateness and publish the pending batch: the floor moves up
    write_contract(root, big + 3 * batch, lateness=60)
    run([*KEEL, "promote", "hubspot.contacts", "--project", str(root)], root)
    land_batch(1)
    gate_once()
    out["keel_gate_command_s"] = timed(lambda: run(gate_cmd, root), runs)

    def served() -> float:
        gate_once()
        return timed(lambda: run(gate_cmd, root), runs)

    out["keel_gate_command_with_serve_s"] = with_server(root, served)
    assert not (root / ".keel" / "serve.json").exists()  # removed on a clean shutdown
    if dbt:
        project = dbt_project(root, "HUBSPOT_DATA_RAW", big + 3 * batch)
        cmd = [dbt, "test", "--project-dir", str(project), "--profiles-dir", str(project)]
        run(cmd, project)
        # the standalone command and dbt in turn, so a shared machine's slow spells fall on
        # both alike (the figures above ran minutes apart)
        keel_s, dbt_s = interleaved(lambda: run(gate_cmd, root), lambda: run(cmd, project), runs)
        out["keel_gate_command_s"] = round(statistics.median(keel_s), 3)
        out["dbt_test_on_table_s"] = round(statistics.median(dbt_s), 3)
        out["keel_gate_command_runs_s"] = [round(x, 3) for x in keel_s]
        out["dbt_test_on_table_runs_s"] = [round(x, 3) for x in dbt_s]
        out["speedup_of_fastest_runs"] = round(min(dbt_s) / min(keel_s), 1)
        for key in ("keel_gate_command_lookback_s", "keel_gate_command_s"):
            out[key.replace("keel_gate_command", "speedup").removesuffix("_s")] = round(
                out["dbt_test_on_table_s"] / out[key], 1
            )
        out["speedup_with_serve"] = round(
            out["dbt_test_on_table_s"] / out["keel_gate_command_with_serve_s"], 1
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--big", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--dbt", help="a dbt executable with dbt-duckdb (default: KEEL_DBT, PATH)")
    parser.add_argument("--part", choices=["1", "2", "both"], default="both")
    args = parser.parse_args()
    dbt = find_dbt(args.dbt)
    work = Path(tempfile.mkdtemp(prefix="keel-bench-gate-"))
    ENV["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    result: dict[str, Any] = {"machine": machine(), "runs": args.runs, "dbt": dbt}
    try:
        if args.part in ("1", "both"):
            result["batch_5m"] = part1(work, args.rows, args.runs, dbt)
        if args.part in ("2", "both"):
            result["micro_batch"] = part2(work, args.big, args.batch, args.runs, dbt)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
