"""One error tree for keel.

    KeelError                      anything keel reports as "error: ..." with exit code 1
     +-- ProjectError              keel.yml / contracts invalid (carries every Problem found)
     +-- PlanError                 a saved plan is stale, unreadable or does not fit
     +-- ApplyError                a plan stopped part-way (says what was applied and what not)
     +-- WarehouseError            the engine refused a statement or could not be reached
     |    +-- WarehouseLockedError the DuckDB file is held by another process (keel serve)
     +-- IngestError               a connector failed, a record did not fit its stream
     +-- QualityError              a check cannot be compiled (unknown test, bad arguments)
     +-- WebhookError              a webhook body is malformed (HTTP 400)

Third-party errors are translated where they cross into keel with
``raise KeelError(...) from exc``; the CLI maps any KeelError to exit code 1
and prints its message, never a traceback (``--debug`` shows it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the project files: where, what, and a hint."""

    file: str
    line: int | None
    message: str
    hint: str | None = None

    def render(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class KeelError(Exception):
    """Base of every error keel reports to a user."""

    exit_code = 1

    @property
    def message(self) -> str:
        return str(self)


class ProjectError(KeelError):
    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.message))
        n = len(self.problems)
        head = f"the project has {n} problem{'s' if n != 1 else ''}:"
        super().__init__("\n".join([head, *("  " + p.render() for p in self.problems)]))


class PlanError(KeelError):
    pass


class ApplyError(KeelError):
    def __init__(self, message: str, applied: list[str], failed: str, not_applied: list[str]):
        self.applied = applied
        self.failed = failed
        self.not_applied = not_applied
        super().__init__(message)


class WarehouseError(KeelError):
    pass


class WarehouseLockedError(WarehouseError):
    pass


class IngestError(KeelError):
    pass


class QualityError(KeelError):
    pass


class WebhookError(KeelError):
    pass
