"""The facade the CLI (and the server) talk to: project + adapter + console.

Each public method is one command's worth of work and returns a value the
caller renders; nothing here prints.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.console import Console, NullConsole
from keel.errors import KeelError, PlanError, Problem, ProjectError

if TYPE_CHECKING:
    from keel.adapters.base import Adapter
    from keel.governance.apply import ApplyResult
    from keel.governance.audit import AuditReport
    from keel.governance.desired import Coverage
    from keel.ingest.results import ProgressEvent, SourceResult
    from keel.plan.model import Change, Plan
    from keel.project.load_project import EntityTypeFor
    from keel.project.loaded import Project
    from keel.publish.pipeline import RunReport
    from keel.quality.model import SourceReport, StreamReport
    from keel.resources import ActualState, DesiredState

StreamProgress = Callable[["StreamReport"], None]

# Every import below this facade is made inside the verb that needs it, so that a
# command loads only its own part of keel (``keel gate`` never loads governance).


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a plan is built: the state, the
    desired state and the plan are hundreds of thousands of objects that live until it is
    done, and CPython 3.11 walks all of them again at every full collection (a third of
    the Python time of a 10,000-table plan). Reference counting still frees the rest; the
    collector runs again as usual afterwards."""
    if not gc.isenabled():  # already paused (a plan building its snapshot)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Opening:
    """A warehouse connection being opened on its own thread (:meth:`Context.open_ahead`)."""

    def __init__(self, open_: Callable[[], Adapter]):
        import threading

        self._open = open_
        self._adapter: Adapter | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="keel-open", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._adapter = self._open()
        except BaseException as exc:  # raised again on the caller's thread, by result()
            self._error = exc

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self) -> Adapter:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._adapter is not None
        return self._adapter


@dataclass
class Snapshot:
    """Actual and desired state read once, shared by plan, audit and catalog."""

    actual: ActualState
    desired: DesiredState
    coverage: Coverage

    @property
    def fingerprint(self) -> str:
        from keel.plan.model import fingerprint

        return fingerprint(self.actual.canonical(), self.desired.canonical())


class Context:
    def __init__(
        self,
        root: Path,
        console: Console | None = None,
        env: dict[str, str] | None = None,
        adapter: Adapter | None = None,
    ):
        """``adapter``: an open warehouse connection to use instead of the project's
        (tests, e.g. a recording Snowflake connection); closed with the Context."""
        self.root = root
        self.console = console or NullConsole()
        self._env = env
        self._project: Project | None = None
        self._adapter: Adapter | None = adapter
        self._opening: _Opening | None = None

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = self._load_project()
            for text in self._project.not_run_warnings():
                self.console.warn(text)
        return self._project

    def _load_project(self) -> Project:
        def classifier() -> EntityTypeFor:
            from keel.governance.classify.tables import entity_type_for_table

            return entity_type_for_table

        if self._env is None:  # the process's environment: the compiled copy may serve
            from keel.project import compiled

            return compiled.load(self.root, classifier)
        from keel.project.loader import load_project

        return load_project(self.root, self._env, classifier())

    @property
    def adapter(self) -> Adapter:
        if self._adapter is None:
            if self._opening is not None:
                try:
                    self._adapter = self._opening.result()
                finally:  # kept while interrupted (Ctrl-C): close() still closes it
                    if self._opening.done():
                        self._opening = None
            else:
                from keel.adapters.registry import adapter_for

                self._adapter = adapter_for(self.project)
        return self._adapter

    def open_ahead(self) -> None:
        """Start opening the warehouse on a thread; :attr:`adapter` waits for it.

        A verb calls this before importing its own modules, so the two overlap: opening a
        DuckDB file (its catalog of built-in functions, about 20 ms) and a Snowflake or
        PostgreSQL login release the GIL. The project is loaded here, on the caller's
        thread, so its errors are reported as before; an error opening the warehouse is
        raised where the adapter is first used."""
        if self._adapter is not None or self._opening is not None:
            return
        project = self.project
        from keel.adapters.registry import adapter_for

        self._opening = _Opening(lambda: adapter_for(project))

    def fork(self) -> Context:
        """A Context on the same project with its own connection (for a worker thread)."""
        other = Context(self.root, self.console, self._env)
        other._project = self.project
        other._adapter = self.adapter.fork()
        return other

    def close(self, wait: bool = True) -> None:
        """Close the warehouse connection. ``wait=False`` (leaving on Ctrl-C): a connection
        still being opened ahead is not waited for (a login can take long); its thread is a
        daemon, and the process is ending."""
        if self._opening is not None:  # opened ahead and never used
            opening, self._opening = self._opening, None
            if wait or opening.done():
                with contextlib.suppress(Exception):
                    self._adapter = opening.result()
        if self._adapter is not None:
            self._adapter.close()
            self._adapter = None

    def __enter__(self) -> Context:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(wait=kind is None or issubclass(kind, Exception))

    # ---- governance ------------------------------------------------------------------

    def snapshot(self, sample: bool = True) -> Snapshot:
        with _collector_paused():
            return self._snapshot(sample)

    def _snapshot(self, sample: bool) -> Snapshot:
        self.open_ahead()
        from keel.governance.desired import build_desired

        project, adapter = self.project, self.adapter
        managed = {s.name for s in project.schemas()}
        actual = adapter.read_state(managed, {r.upper() for r in project.spec.roles})
        with self.console.progress("classifying") as bar:
            desired, coverage = build_desired(
                project,
                actual,
                adapter,
                sample=sample,
                progress=lambda done, total: bar.update(done, total),
            )
        self._check_tag_lengths(desired)
        return Snapshot(actual, desired, coverage)

    def _check_tag_lengths(self, desired: DesiredState) -> None:
        limit = self.project.spec.metadata_tag.max_length
        problems = [
            Problem(
                "(warehouse)",
                None,
                f"{key.object_type} {key.object_name}: tag value is "
                f"{len(value)} characters, over the limit of {limit}",
            )
            for key, value in desired.tags.items()
            if len(value) > limit
        ]
        if problems:
            raise ProjectError(problems)

    def plan(self, snap: Snapshot | None = None) -> Plan:
        from keel.plan.diff import diff
        from keel.plan.model import Plan

        snap = snap or self.snapshot()
        with _collector_paused():
            changes = tuple(self.adapter.render(c) for c in diff(snap.desired, snap.actual))
            fingerprint = snap.fingerprint
        notes: list[str] = []
        if not self.adapter.caps.enforces_grants:
            notes.append(
                f"roles and grants: recorded in SOPHIA_OPS, not enforced by {self.adapter.name}"
            )
        return Plan(changes, fingerprint, self.adapter.name, self.project.spec.name, tuple(notes))

    def apply(
        self, plan: Plan | None = None, progress: Callable[[Change], None] | None = None
    ) -> tuple[Plan, ApplyResult]:
        snap = self.snapshot()
        if plan is None:
            plan = self.plan(snap)
        else:
            if plan.engine != self.adapter.name:
                raise PlanError(
                    f"the plan was made for {plan.engine}, this project uses {self.adapter.name}"
                )
            if plan.fingerprint != snap.fingerprint:
                raise PlanError(
                    "the warehouse or the project changed since this plan was made "
                    f"(fingerprint {plan.fingerprint}, now {snap.fingerprint}); nothing was "
                    "applied. Run keel plan again and review the new plan."
                )
        from keel.governance.apply import apply_plan

        return plan, apply_plan(plan, self.adapter, progress)

    def audit(self) -> AuditReport:
        from keel.governance import audit as audit_mod

        snap = self.snapshot()
        return audit_mod.audit(
            self.project,
            snap.desired,
            snap.coverage,
            snap.actual,
            self.adapter.name,
            self.adapter.caps.enforces_grants,
        )

    def catalog(self) -> list[dict[str, Any]]:
        from keel.governance import catalog as catalog_mod

        project, adapter = self.project, self.adapter
        managed = [s.name for s in project.schemas()]
        actual = adapter.read_state(set(managed), {r.upper() for r in project.spec.roles})
        return catalog_mod.catalog(actual, managed)

    def classify(self, write: bool = False) -> dict[str, Any]:
        from keel.governance.proposals import write_proposals

        snap = self.snapshot()
        proposals = [
            {
                "object_type": p.key.object_type,
                "name": p.key.object_name,
                "metadata": p.tag,
                "reasons": list(p.reasons),
                "evidence": list(p.evidence),
            }
            for p in snap.desired.proposals
        ]
        written: list[str] = []
        skipped: list[str] = []
        if write and snap.desired.proposals:
            written, skipped = write_proposals(self.project, snap.desired.proposals, snap.actual)
            self._project = None  # the contracts changed
        return {"proposals": proposals, "written": written, "skipped": skipped}

    # ---- runtime: what a batch goes through ------------------------------------------

    def gate(
        self, target: str, *, sample_limit: int = 10, progress: StreamProgress | None = None
    ) -> SourceReport:
        """Test the pending batch of ``SOURCE`` or ``SOURCE.STREAM`` (publishes nothing)."""
        self.open_ahead()
        from keel.quality.gate import gate

        return gate(
            self.project, self.adapter, target, sample_limit=sample_limit, progress=progress
        )

    def promote(
        self,
        target: str,
        *,
        force: bool = False,
        reason: str | None = None,
        transform: bool = True,
        sample_limit: int = 10,
        progress: StreamProgress | None = None,
    ) -> SourceReport:
        """Gate, then publish the passing batches (parents first), then transform."""
        self.open_ahead()
        from keel.publish.promote import promote

        return promote(
            self.project,
            self.adapter,
            target,
            force=force,
            reason=reason,
            transform=transform,
            sample_limit=sample_limit,
            progress=progress,
        )

    def ingest(
        self,
        sources: Sequence[str] | None = None,
        faults: Mapping[str, list[dict[str, Any]]] | None = None,
        progress: Callable[[ProgressEvent], None] | None = None,
        on_install: Callable[[str], None] | None = None,
        config_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[SourceResult]:
        """Run the sources' connectors into their _RAW schemas (DuckDB and PostgreSQL)."""
        from keel.ingest.sources import ingest_sources

        return ingest_sources(
            self.project, self.adapter, sources, faults, progress, on_install, config_overrides
        )

    def run(
        self, source: str, *, ingest: bool = True, transform: bool = True, sample_limit: int = 10
    ) -> RunReport:
        """``keel run``: ingest (unless Airbyte already loaded RAW), gate, promote, transform."""
        self.open_ahead()
        from keel.publish.pipeline import run_source

        step = (lambda s: self.ingest([s])[0]) if ingest else None
        return run_source(
            self.project,
            self.adapter,
            source,
            ingest=step,
            transform=transform,
            sample_limit=sample_limit,
        )

    def batches(self, source: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Pending, blocked and promoted batches, newest first."""
        self.open_ahead()
        from keel.publish.batches import list_batches

        return list_batches(self.project, self.adapter, source, limit=limit)


def tag_dict(value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise KeelError(f"not a tag value: {value!r}") from exc
    return parsed if isinstance(parsed, dict) else {}
