"""Choose how each discovered stream is read: the ConfiguredAirbyteCatalog.

The rules are the ones keel's Airbyte standard applies to real connections
(DESIGN section 8), so a local sync lands data the way Airbyte would:

- primary key: the source's own (``source_defined_primary_key``), else the
  one given (from the contract's ``meta.keel.primary_key``), else none;
- cursor: the source's default when it defines its cursor, else the one
  given, else the source's suggestion (``default_cursor_field``);
- sync mode: ``incremental`` when the stream supports it and a cursor exists,
  else ``full_refresh``;
- destination: ``append_dedup`` (Append + Deduped) with a primary key, else
  ``append``. keel's writer never overwrites: a full refresh of a keyed
  stream is deduplicated into the table, one without a key is appended.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from airbyte_protocol.models import (
    AirbyteCatalog,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    DestinationSyncMode,
    SyncMode,
)

from keel.errors import IngestError


def configure_catalog(
    catalog: AirbyteCatalog,
    streams: Sequence[str] | None = None,
    *,
    cursors: Mapping[str, Sequence[str]] | None = None,
    primary_keys: Mapping[str, Sequence[Sequence[str]]] | None = None,
    sync_id: int | None = None,
    generation_id: int = 0,
) -> ConfiguredAirbyteCatalog:
    """Select ``streams`` (all when None) and configure each; unknown names fail together."""
    by_name = {s.name: s for s in catalog.streams}
    wanted = list(by_name) if streams is None else list(dict.fromkeys(streams))
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, list(by_name), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        available = ", ".join(sorted(by_name)) or "none"
        raise IngestError(f"unknown stream(s) {', '.join(hints)}; the source offers: {available}")
    configured = []
    for name in wanted:
        stream = by_name[name]
        pk = _primary_key(stream.source_defined_primary_key, (primary_keys or {}).get(name))
        cursor = _cursor(stream, (cursors or {}).get(name))
        incremental = SyncMode.incremental in stream.supported_sync_modes and bool(cursor)
        if not incremental and SyncMode.full_refresh not in stream.supported_sync_modes:
            raise IngestError(
                f"stream {name!r} supports only incremental reads and has no cursor: "
                "give one in the contract (meta.keel.cursor)"
            )
        configured.append(
            ConfiguredAirbyteStream(
                stream=stream,
                sync_mode=SyncMode.incremental if incremental else SyncMode.full_refresh,
                cursor_field=cursor if incremental else None,
                destination_sync_mode=(
                    DestinationSyncMode.append_dedup if pk else DestinationSyncMode.append
                ),
                primary_key=pk,
                generation_id=generation_id,
                minimum_generation_id=0,
                sync_id=sync_id,
            )
        )
    return ConfiguredAirbyteCatalog(streams=configured)


def _primary_key(
    source: list[list[str]] | None, given: Sequence[Sequence[str]] | None
) -> list[list[str]] | None:
    key = source or ([list(p) for p in given] if given else None)
    return [list(p) for p in key] if key else None


def _cursor(stream: Any, given: Sequence[str] | None) -> list[str] | None:
    default = list(stream.default_cursor_field or [])
    if stream.source_defined_cursor and default:
        return default
    if given:
        return list(given)
    return default or None


def dedup_cursor(configured: ConfiguredAirbyteStream) -> str | None:
    """The top-level field that orders versions of a key (None: arrival order only)."""
    field = configured.cursor_field or configured.stream.default_cursor_field or []
    return field[0] if len(field) == 1 else None


def key_fields(configured: ConfiguredAirbyteStream) -> list[str]:
    """The primary key as top-level field names; nested keys are not supported."""
    fields = []
    for path in configured.primary_key or []:
        if len(path) != 1:
            raise IngestError(
                f"stream {configured.stream.name!r}: nested primary key {'.'.join(path)} "
                "is not supported; use top-level fields"
            )
        fields.append(path[0])
    return fields


def state_for_read(
    committed: Mapping[str, dict[str, Any]], catalog: ConfiguredAirbyteCatalog
) -> list[dict[str, Any]]:
    """The ``--state`` file: committed STATE messages of the selected streams.

    ``committed`` maps a stream name (``*`` for a GLOBAL or legacy state) to
    the STATE message stored with its last commit. Only incremental streams
    get theirs back: a full refresh starts from the beginning by definition.
    """
    wanted = {s.stream.name for s in catalog.streams if s.sync_mode == SyncMode.incremental}
    states = [msg for name, msg in committed.items() if name in wanted]
    if "*" in committed:
        states.append(committed["*"])
    return states
