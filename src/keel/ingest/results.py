"""What an ingestion reports: progress events while it runs, results when done.

Both are plain dataclasses with ``to_dict()`` for ``--json``; nothing here
prints. A failed ingestion raises :class:`IngestFailed`, which still carries
the :class:`SourceResult` of what was committed before the failure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from keel.errors import IngestError

EventKind = Literal["discovered", "log", "progress", "committed", "finished"]


@dataclass(frozen=True)
class ProgressEvent:
    """One thing worth showing while a source is ingested.

    - ``discovered``: the catalog is configured (``message`` lists the streams);
    - ``log``: a LOG message from the connector (``level``, ``message``);
    - ``progress``: a STATE arrived (``records`` read so far for ``stream``);
    - ``committed``: a batch of ``stream`` is committed (``committed`` so far);
    - ``finished``: the read is over.
    """

    kind: EventKind
    source: str
    stream: str | None = None
    records: int = 0
    committed: int = 0
    level: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StreamResult:
    """One stream of one ingestion run."""

    stream: str
    table: str  # "SCHEMA"."TABLE" spelled SCHEMA.TABLE
    sync_mode: str  # incremental | full_refresh
    destination_sync_mode: str  # append_dedup | append
    primary_key: list[str] = field(default_factory=list)
    cursor: str | None = None
    records: int = 0  # read from the connector in this run
    committed: int = 0  # of those, committed (with a STATE)
    batches: int = 0  # commits
    table_created: bool = False  # the RAW table did not exist before this run
    new_columns: list[str] = field(default_factory=list)  # added to the table in this run
    widened_columns: list[str] = field(default_factory=list)  # "COL: BIGINT -> DOUBLE"
    state: dict[str, Any] | None = None  # the last committed stream state

    @property
    def uncommitted(self) -> int:
        """Records read after the last STATE: not written; the next run reads them again."""
        return self.records - self.committed

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["uncommitted"] = self.uncommitted
        return data


@dataclass
class SourceResult:
    """One source's ingestion run."""

    source: str
    schema: str
    sync_id: int
    streams: list[StreamResult] = field(default_factory=list)
    error: str | None = None

    @property
    def records(self) -> int:
        return sum(s.records for s in self.streams)

    @property
    def committed(self) -> int:
        return sum(s.committed for s in self.streams)

    def stream(self, name: str) -> StreamResult:
        for s in self.streams:
            if s.stream == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "schema": self.schema,
            "sync_id": self.sync_id,
            "status": "failed" if self.error else "succeeded",
            "records": self.records,
            "committed": self.committed,
            "error": self.error,
            "streams": [s.to_dict() for s in self.streams],
        }


class IngestFailed(IngestError):
    """Ingestion stopped; ``result`` says what was committed before it did."""

    def __init__(self, message: str, result: SourceResult) -> None:
        super().__init__(message)
        self.result = result
