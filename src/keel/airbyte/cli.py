"""``keel airbyte plan|apply|sync|versions``: Airbyte connections through its public API."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from keel.cli_common import command, finish_plan

if TYPE_CHECKING:
    from keel.airbyte.client import AirbyteClient
    from keel.airbyte.standard import AirbytePlan
    from keel.console import Console
    from keel.project.loaded import Project

TERMINAL = {"succeeded", "failed", "cancelled", "incomplete"}


def _open(project_dir: Path) -> tuple[Project, AirbyteClient]:
    from keel.airbyte.client import AirbyteClient
    from keel.airbyte.connections import require_airbyte
    from keel.project.loader import load_project

    project = load_project(project_dir)
    return project, AirbyteClient(require_airbyte(project))


def _secret(project: Project) -> str | None:
    token = project.spec.serve.token
    return token.get_secret_value() if token else None


def _show(console: Console, plan: AirbytePlan, secret: str | None) -> None:
    import json

    from keel.airbyte.standard import redact

    for w in plan.warnings:
        console.warn(w)
    for source, modes in sorted(plan.streams.items()):
        for m in modes:
            console.line(f"  {source}.{m['stream']}: {m['syncMode']} ({m['reason']})")
    if plan.empty:
        console.ok("Airbyte connections meet the standard: nothing to change")
        return
    for c in plan.changes:
        console.heading(f"~ {c.target} {c.name} ({c.object_id})")
        for d in c.differences:
            console.line(f"    {d}")
        for n in c.notes:
            console.warn(n)
        console.line(f"    PATCH {c.path}")
        body = json.dumps(redact(c.body, secret), indent=2, ensure_ascii=False)
        console.line("\n".join("      " + line for line in body.splitlines()))
    console.line(f"{len(plan.changes)} change(s)")


def _check_saved(plan_file: Path, fingerprint: str) -> None:
    import json

    from keel.errors import PlanError

    try:
        saved = json.loads(plan_file.read_text(encoding="utf-8"))["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlanError(f"{plan_file}: not a plan saved by keel airbyte plan --out") from exc
    if saved != fingerprint:
        raise PlanError(
            f"{plan_file}: Airbyte or the project changed since this plan was made "
            f"(fingerprint {saved}, now {fingerprint}); nothing was applied. Run "
            "keel airbyte plan again and review the new plan."
        )


def register(main: click.Group) -> None:
    @main.group()
    def airbyte() -> None:
        """Airbyte connections held to keel's standard through Airbyte's public API."""

    @airbyte.command()
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Save the plan to FILE for `keel airbyte apply FILE`.",
    )
    @click.option(
        "--detailed-exitcode", is_flag=True, help="Exit 0 with no changes, 2 with changes."
    )
    @command
    def plan(
        out: Path | None,
        detailed_exitcode: bool,
        project_dir: Path,
        json_mode: bool,
        console: Console,
    ) -> None:
        """Show what `keel airbyte apply` would change, with each request body."""
        import json

        from keel.airbyte.connections import build, write_status

        project, client = _open(project_dir)
        with client:
            result, resolution = build(project, client)
        write_status(project.root, result, resolution)
        secret = _secret(project)
        data = {**result.to_dict(secret), "fingerprint": result.fingerprint(secret)}
        finish_plan(
            console,
            data=data,
            render=lambda: _show(console, result, secret),
            out=out,  # the webhook token is masked in the file too
            save=lambda path: path.write_text(
                json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8"
            ),
            apply_command="keel airbyte apply",
            empty=result.empty,
            detailed_exitcode=detailed_exitcode,
        )

    @airbyte.command()
    @click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
    @command
    def apply(
        plan_file: Path | None, yes: bool, project_dir: Path, json_mode: bool, console: Console
    ) -> None:
        """Bring every connection, its destination and the workspace's webhooks to the
        standard (PLAN_FILE, or a fresh plan after confirmation)."""
        from keel.airbyte.client import AirbyteError
        from keel.airbyte.connections import apply as apply_plan
        from keel.airbyte.connections import build, write_status

        project, client = _open(project_dir)
        secret = _secret(project)
        with client:
            result, resolution = build(project, client)
            if plan_file is not None:
                _check_saved(plan_file, result.fingerprint(secret))
            elif result.empty:
                if json_mode:
                    console.emit_json({**result.to_dict(secret), "applied": [], "failed": []})
                else:
                    _show(console, result, secret)
                return
            else:
                if not json_mode:
                    _show(console, result, secret)
                if not yes:
                    if not sys.stdin.isatty():
                        raise AirbyteError(
                            "refusing to apply without confirmation in a non-interactive "
                            "session; pass --yes, or save a plan with --out and apply it"
                        )
                    click.confirm(f"Apply {len(result.changes)} change(s)?", abort=True)
            done = apply_plan(result, client)
        write_status(project.root, result, resolution, done)
        if json_mode:
            console.emit_json({**result.to_dict(secret), **done.to_dict()})
        else:
            for a in done.applied:
                console.ok(f"applied: {a}")
        if done.failed:
            applied = ", ".join(done.applied) or "nothing"
            raise AirbyteError(
                f"{len(done.failed)} change(s) refused (applied: {applied}):\n  "
                + "\n  ".join(done.failed)
            )

    @airbyte.command()
    @click.argument("source")
    @click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the outcome.")
    @click.option(
        "--interval", default=5.0, show_default=True, type=float, help="Seconds between looks."
    )
    @click.option("--timeout", default=3600.0, show_default=True, type=float, help="Give up after.")
    @command
    def sync(
        source: str,
        wait: bool,
        interval: float,
        timeout: float,
        project_dir: Path,
        json_mode: bool,
        console: Console,
    ) -> None:
        """Trigger a sync of SOURCE's connection and wait for it, with a progress bar."""
        from keel.airbyte.client import AirbyteError
        from keel.airbyte.connections import resolve

        project, client = _open(project_dir)
        if source not in project.sources:
            raise AirbyteError(f"no source {source!r} in keel.yml ({', '.join(project.sources)})")
        with client:
            found = resolve(project, client.connections(), client.sources())
            if source not in found.found:
                raise AirbyteError(
                    f"source {source}: {found.problems.get(source, 'no connection')}"
                )
            conn = found.found[source]
            job = client.start_sync(conn["connectionId"], conn["name"])
            if wait:
                job = _wait(console, client, job, conn["name"], interval, timeout)
        out: dict[str, Any] = {"source": source, "connection": conn["name"], **job}
        if json_mode:
            console.emit_json(out)
        elif job["status"] == "succeeded":
            console.ok(
                f"{conn['name']}: job {job['jobId']} succeeded ({job.get('rowsSynced', 0)} rows)"
            )
        else:
            console.line(f"{conn['name']}: job {job['jobId']} {job['status']}")
        if wait and job["status"] != "succeeded":
            raise AirbyteError(f"{conn['name']}: sync job {job['jobId']} ended {job['status']}")

    @airbyte.command()
    @command
    def versions(project_dir: Path, json_mode: bool, console: Console) -> None:
        """Each connector's version against the newest the workspace knows."""
        from keel.airbyte.versions import connector_versions

        _, client = _open(project_dir)
        with client:
            rows = connector_versions(client)
        if json_mode:
            console.emit_json([r.to_dict() for r in rows])
            return
        console.table(
            "Connector versions",
            ["kind", "name", "repository", "in use", "newest", "behind"],
            [
                [r.kind, r.name, r.repository, r.in_use, r.newest, "yes" if r.behind else ""]
                for r in rows
            ],
        )

    _ = (plan, apply, sync, versions)


def _wait(
    console: Console,
    client: AirbyteClient,
    job: dict[str, Any],
    name: str,
    interval: float,
    timeout: float,
) -> dict[str, Any]:
    from keel.airbyte.client import AirbyteError

    deadline = time.monotonic() + timeout
    steps = {"pending": 0, "queued": 0, "running": 1}
    with console.progress(f"{name}: job {job['jobId']}", total=2) as bar:
        while job["status"] not in TERMINAL:
            bar.update(steps.get(job["status"], 1), 2)
            if time.monotonic() > deadline:
                raise AirbyteError(
                    f"{name}: job {job['jobId']} still {job['status']} after {timeout:g}s"
                )
            time.sleep(interval)
            job = client.job(job["jobId"])
        bar.update(2, 2)
    return job
