"""The ``keel`` command: parse options, call one Context method, render the result.

Heavy libraries (duckdb, pydantic, rich, yaml) are imported inside the
commands, so ``keel --help`` starts fast. Any KeelError becomes one message
on stderr and exit code 1; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from keel.cli_common import State, command, finish_plan
from keel.cli_common import open_context as _context

if TYPE_CHECKING:
    from keel.console import Console


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="keel", prog_name="keel")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def main(debug: bool) -> None:
    """keel: a governed warehouse foundation for an AI platform.

    Schemas, metadata tags and least-privilege roles from one declarative
    project; Airbyte connections to a standard; and a data-quality gate that
    lets only tested batches out of the _RAW schemas.
    """
    State.debug = debug


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."))
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "postgres", "snowflake"]),
    default="duckdb",
    show_default=True,
    help="The warehouse engine the project targets.",
)
@click.option("--force", is_flag=True, help="Overwrite existing project files.")
@click.option(
    "--from-dbt",
    "from_dbt",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Read contracts from this dbt project's sources files, where they live.",
)
@command
def init(
    directory: Path,
    engine: str,
    force: bool,
    from_dbt: Path | None,
    project_dir: Path,
    json_mode: bool,
    console: Console,
) -> None:
    """Write the Sophia AI project (keel.yml and contracts/) into DIRECTORY."""
    from keel.project.init import write_project

    paths = write_project(directory, engine=engine, force=force, from_dbt=from_dbt)
    if json_mode:
        console.emit_json({"directory": str(directory), "files": [str(p) for p in paths]})
        return
    console.ok(f"wrote a keel project in {directory}")
    for p in paths:
        console.line(f"  {p.relative_to(directory)}")
    console.line("next: keel plan, then keel apply")


SHOWN = 500  # changes a plan prints in full unless --full (a first plan of 10,000 tables: 80,000)


def _render_plan(console: Console, plan: Any, full: bool = False) -> None:
    if plan.empty:
        console.ok("no changes: the warehouse matches the project")
        return
    symbols = {
        "create_schema": "+",
        "create_role": "+",
        "grant": "+",
        "grant_role": "+",
        "bootstrap_ops": "+",
        "set_tag": "~",
        "unset_tag": "-",
        "revoke": "-",
        "revoke_role": "-",
    }
    shown = plan.changes if full else plan.changes[:SHOWN]
    for change in shown:
        text = f"{symbols.get(change.kind, '~')} {change.kind:<13} {change.object}"
        console.line(text, style="bold")
        if change.before is not None and change.after is not None:
            console.line(f"      {change.before}  ->  {change.after}")
        elif change.after is not None and change.kind == "set_tag":
            console.line(f"      {change.after}")
        for extra in (change.reason, change.note):
            if extra:
                console.line(f"      ({extra})", style="italic")
        console.sql(list(change.sql), indent="      ")
    if len(shown) < len(plan.changes):
        console.line(
            f"... and {len(plan.changes) - len(shown)} more change(s): `keel plan --full` prints "
            "them all, `--out FILE` saves every change with its SQL (`--json` prints it)",
            style="italic",
        )
    counts = ", ".join(f"{n} {k}" for k, n in plan.summary().items())
    console.line()
    console.line(
        f"Plan: {len(plan.changes)} change(s): {counts}. Fingerprint {plan.fingerprint}.",
        style="bold",
    )
    for note in plan.notes:
        console.line(f"note: {note}", style="yellow")


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan to FILE for `keel apply FILE`.",
)
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes, 1 on error."
)
@click.option(
    "--full", is_flag=True, help=f"Print every change (otherwise the first {SHOWN} and a count)."
)
@command
def plan(
    out: Path | None,
    detailed_exitcode: bool,
    full: bool,
    project_dir: Path,
    json_mode: bool,
    console: Console,
) -> None:
    """Show what apply would change: desired (project) vs actual (warehouse)."""
    with _context(project_dir, console) as ctx:
        result = ctx.plan()
    finish_plan(
        console,
        data=result.to_dict() if json_mode else {},
        render=lambda: _render_plan(console, result, full),
        out=out,
        save=result.save,
        apply_command="keel apply",
        empty=result.empty,
        detailed_exitcode=detailed_exitcode,
    )


@main.command()
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@command
def apply(
    plan_file: Path | None, yes: bool, project_dir: Path, json_mode: bool, console: Console
) -> None:
    """Carry out a plan (PLAN_FILE, or a fresh one after confirmation)."""
    from keel.errors import KeelError
    from keel.plan.model import Plan

    with _context(project_dir, console) as ctx:
        saved = Plan.load(plan_file) if plan_file else None
        if saved is None:
            fresh = ctx.plan()
            if fresh.empty:
                if json_mode:
                    console.emit_json({"applied": 0, "changes": []})
                else:
                    console.ok("no changes: the warehouse matches the project")
                return
            if not json_mode:
                _render_plan(console, fresh)
            if not yes:
                if not sys.stdin.isatty():
                    raise KeelError(
                        "refusing to apply without confirmation in a non-interactive "
                        "session; pass --yes, or save a plan with --out and apply it"
                    )
                click.confirm(f"Apply {len(fresh.changes)} change(s)?", abort=True)
            saved = fresh
        with console.progress("applying", total=len(saved.changes)) as bar:
            done, result = ctx.apply(saved, progress=lambda _c: bar.advance())
    if json_mode:
        console.emit_json(result.to_dict())
    else:
        console.ok(
            f"applied {len(result.applied)} change(s) (apply id {result.apply_id}, "
            "logged in keel's apply log)"
        )


@main.command()
@command
def audit(project_dir: Path, json_mode: bool, console: Console) -> None:
    """Compliance report: tag coverage, grants, tests per source. Exit 1 when short."""
    from keel.airbyte.audit import connection_findings

    with _context(project_dir, console) as ctx:
        report = ctx.audit()
        report.add_connections(*connection_findings(ctx.project))
    data = report.to_dict()
    if json_mode:
        console.emit_json(data)
    else:
        cov = data["tag_coverage"]
        console.heading(f"Audit ({report.engine})")
        t, c = cov["tables"], cov["critical_columns"]
        console.line(
            f"  tag coverage, tables:           {t['tagged']}/{t['total']} ({t['percent']}%)"
        )
        console.line(
            f"  tag coverage, critical columns: {c['tagged']}/{c['total']} ({c['percent']}%)"
        )
        tests = ", ".join(f"{k} {v}" for k, v in data["tests"]["sources"].items())
        console.line(f"  data tests per source:          {tests}")
        if data["tests"]["not_run"]:
            kept = ", ".join(f"{k} {v}" for k, v in data["tests"]["not_run"].items())
            console.line(f"  kept, not run by keel's gate:   {kept}")
        if data["proposed"]:
            proposed = ", ".join(f"{p['object']} {p['key']}={p['value']}" for p in data["proposed"])
            console.line(f"  proposed, not declared:         {proposed}")
        console.line(f"  rbac violations:                {len(data['rbac']['violations'])}")
        console.line(f"  connection violations:          {len(data['connections']['violations'])}")
        for note in report.notes:
            console.line(f"  note: {note}", style="yellow")
        if report.violations:
            console.table(
                f"{len(report.violations)} violation(s)",
                ["kind", "object", "message"],
                [(v.kind, v.object, v.message) for v in report.violations[:200]],
            )
            if len(report.violations) > 200:
                console.line(f"  ... and {len(report.violations) - 200} more (use --json)")
        else:
            console.ok("no violations")
    if not report.ok:
        sys.exit(1)


@main.command()
@click.option("--write", is_flag=True, help="Add the proposals to the contracts for review.")
@command
def classify(write: bool, project_dir: Path, json_mode: bool, console: Console) -> None:
    """Propose tag metadata for tables and columns no contract covers."""
    with _context(project_dir, console) as ctx:
        result = ctx.classify(write=write)
    if json_mode:
        console.emit_json(result)
        return
    if not result["proposals"]:
        console.ok("nothing to classify: every object is covered by a contract")
        return
    console.table(
        "Proposals",
        ["object", "metadata", "why"],
        [
            (
                f"{p['object_type']} {p['name']}",
                ", ".join(f"{k}={v}" for k, v in p["metadata"].items()),
                "; ".join(p["reasons"]),
            )
            for p in result["proposals"]
        ],
    )
    if write:
        console.ok(
            f"wrote {len(result['written'])} proposal(s) into the contracts "
            "(comments other than the file header are not kept)"
        )
        for s in result["skipped"]:
            console.warn(f"not written: {s}")
    else:
        console.line(
            "keel apply tags these as proposed; keel classify --write puts them in the "
            "contracts for review"
        )


@main.command()
@command
def catalog(project_dir: Path, json_mode: bool, console: Console) -> None:
    """The discovery catalog: every schema, table and column with its metadata."""
    with _context(project_dir, console) as ctx:
        objects = ctx.catalog()
    if json_mode:
        console.emit_json(objects)
        return
    rows = []
    for o in objects:
        meta = o["metadata"]
        if o["object_type"] == "column" and meta is None:
            continue
        text = "-" if meta is None else ", ".join(f"{k}={v}" for k, v in meta.items())
        rows.append((o["object_type"], o["name"], text))
    console.table(
        "Catalog (untagged columns omitted; --json lists all)", ["type", "name", "metadata"], rows
    )


def _register_parts() -> None:
    """Each part of keel adds its own commands; importing them costs only click."""
    from keel.airbyte.cli import register as register_airbyte
    from keel.events.cli import register as register_events
    from keel.ingest.cli import register as register_ingest
    from keel.quality.cli import register as register_quality

    register_ingest(main)
    register_quality(main)
    register_events(main)
    register_airbyte(main)


_register_parts()


def _render_demo(console: Console, out: dict[str, Any]) -> None:
    root = out["directory"]
    console.line()
    console.heading(f"keel demo: the whole flow on DuckDB in {out['seconds']} s")
    console.line(f"  project   {root}")
    f = out["foundation"]
    console.line(
        f"  created   {f.get('create_schema', 0)} schemas, {f.get('create_role', 0)} roles, "
        f"{f.get('grant', 0)} grants (recorded: DuckDB does not enforce them), "
        f"{f.get('set_tag', 0)} schema tags"
    )
    console.line(
        f"  sync 1    {out['sync1_records']:,} records into the _RAW schemas; "
        f"{out['sync1_tags']} tags set on the new tables"
    )
    console.line(
        f"  sync 2    {out['sync2_records']:,} records (HubSpot contacts with injected "
        "faults, Gong calls with a new column)"
    )
    for c in out["classified"]:
        console.line(f"  classified {c['object']} as {c['tag']}")
    rows = []
    for report in out["sync2"]:
        for s in report["streams"]:
            failing = [
                f"{c['name']}({(c.get('column') or '').lower()}) {c['failing_rows']} row(s)"
                for c in s["checks"]
                if c["status"] in ("fail", "warn")
            ]
            batch = s.get("batch") or {}
            rows.append(
                (
                    f"{report['source']}.{s['stream']}",
                    s["status"],
                    batch.get("published_rows") if batch.get("published_rows") is not None else "-",
                    "; ".join(failing),
                )
            )
    console.table(
        "Sync 2: gate and publish", ["stream", "status", "published", "checks not passing"], rows
    )
    for report in out["sync2"]:
        for s in report["streams"]:
            if s["status"] != "blocked":
                continue
            console.line(
                f"  blocked {report['source']}.{s['stream']}: {s.get('reason') or ''}",
                style="bold red",
            )
            for check, samples in (s.get("samples") or {}).items():
                column = check.partition(".")[2].lower()
                for sample in samples[:2]:
                    shown = {k: v for k, v in sample.items() if k in ("id", column)}
                    text = ", ".join(f"{k}={v!r}" for k, v in shown.items())
                    console.line(f"    {check}: {text}")
    alerts = out.get("alerts", {})
    console.line(
        f"  alerts    {alerts.get('delivered', 0)} delivered to the local sink "
        f"({alerts.get('sink')}); Slack and PagerDuty too when their secrets are set"
    )
    cov = out["audit"]["tag_coverage"]
    t, c = cov["tables"], cov["critical_columns"]
    console.line(
        f"  tags      tables {t['tagged']}/{t['total']} ({t['percent']}%), critical "
        f"columns {c['tagged']}/{c['total']} ({c['percent']}%)"
    )
    console.line()
    console.line("Next, in the project folder:")
    import shutil

    if shutil.which("keel") is None:  # run through `make demo`: keel is in the checkout's venv
        console.line(f"  source {Path(sys.executable).parent / 'activate'}")
    console.line(f"  cd {root}")
    console.line("  keel batches          # pending, blocked and promoted batches")
    console.line("  keel audit            # tag coverage, grants, tests per source")
    console.line("  keel gate hubspot     # the blocked batch, check by check")
    console.line(
        "  keel serve            # the status page on http://127.0.0.1:8787 "
        "(set KEEL_WEBHOOK_TOKEN first)"
    )


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the demo project (default: a new temporary folder).",
)
@click.option("--serve", is_flag=True, help="Start the event service afterwards.")
@click.option("--port", default=8787, show_default=True, type=int, help="Port for --serve.")
@command
def demo(
    directory: Path | None,
    serve: bool,
    port: int,
    project_dir: Path,
    json_mode: bool,
    console: Console,
) -> None:
    """The whole flow on DuckDB with built-in demo sources: apply, ingest, gate, publish, audit."""
    import os
    import secrets

    from keel.demo import run_demo

    def step(message: str) -> None:
        if not json_mode:
            console.line(f"· {message}", style="dim")

    out = run_demo(directory, step)
    if json_mode:
        console.emit_json(out)
    else:
        _render_demo(console, out)
    if serve:
        from keel.events.server import build, run

        os.environ.setdefault("KEEL_WEBHOOK_TOKEN", secrets.token_urlsafe(24))
        app, _service, _note = build(Path(out["directory"]), console, poll=False)
        console.ok(f"status page: http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        run(app, "127.0.0.1", port)
