"""Full refresh as Airbyte's Destinations V2 does it: generations and overwrite.

Each refresh of a stream raises its ``_airbyte_generation_id`` ("incremented each time you
execute a refresh", docs.airbyte.com understanding-airbyte/airbyte-metadata-fields); later
incremental syncs keep the generation. A stream read in full (no cursor) is
``full_refresh_overwrite``: once the read has succeeded, the rows of older generations
are deleted, so a key the source no longer sends disappears and rows are not appended
again on every run. Until then readers keep seeing the previous generation's rows (a
failed refresh deletes nothing; its partial rows are replaced by the next refresh).
"""

from __future__ import annotations

from collections.abc import Sequence

from keel.adapters.raw import RawSql
from keel.ingest import schema as S

FULL_REFRESH = "full_refresh"


def generations(engine: RawSql, schema: str, tables: Sequence[str]) -> dict[str, int]:
    """The highest ``_AIRBYTE_GENERATION_ID`` of each table, in one query."""
    if not tables:
        return {}
    gen = engine.ident(S.GENERATION_ID)
    parts = [
        f"SELECT {engine.lit(t)} AS t, max({gen}) AS g FROM {engine.ident(schema, t)}"
        for t in tables
    ]
    return {t: int(g) for t, g in engine.fetch(" UNION ALL ".join(parts)) if g is not None}


def next_generation(sync_mode: str, current: int | None) -> int:
    if sync_mode == FULL_REFRESH:
        return 0 if current is None else current + 1
    return current or 0


def drop_older(engine: RawSql, schema: str, table: str, generation: int) -> None:
    """After a successful full refresh: the previous generations' rows go, in one commit."""
    engine.begin()
    try:
        engine.run(
            f"DELETE FROM {engine.ident(schema, table)} "
            f"WHERE {engine.ident(S.GENERATION_ID)} < {engine.lit(generation)}"
        )
        engine.commit()
    except BaseException:
        engine.rollback()
        raise
