"""Rows that commit after a gate with an extraction time at or below the watermark.

Airbyte stamps ``_airbyte_extracted_at`` with the time it pulled the record from the
source, not with the commit time (docs.airbyte.com understanding-airbyte/
airbyte-metadata-fields): a sync committing while a gate runs, a retried attempt or two
workers with skewed clocks land rows "in the past". Each must be judged by the next gate
and published exactly once; blocked rows stay pending.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.support.gatekit import T0, Kit, companies


def _land_at(k: Kit, extracted: dt.datetime, rows: list[dict[str, Any]]) -> list[str]:
    """One committed sync with a chosen extraction time (Airbyte's emit time), Append +
    Deduped: an older row of the same key is replaced. Returns the new raw ids."""
    if "companies" not in k.columns:
        k.create_raw("companies", k.contract_columns("companies"))
    a = k.ctx.adapter
    names = [c for c, _ in k.columns["companies"]]
    ids = []
    with a.transaction():
        for row in rows:
            row = {c.upper(): v for c, v in row.items()}
            a.execute(f'DELETE FROM {k.raw("companies")} WHERE "ID" = {a.lit(row["ID"])}')
            raw_id = uuid.uuid4().hex
            ids.append(raw_id)
            values = [a.lit(row.get(c)) for c in names] + [
                a.lit(raw_id),
                a.lit(extracted),
                a.lit(json.dumps({})),
                "1",
            ]
            a.execute(f"INSERT INTO {k.raw('companies')} VALUES ({', '.join(values)})")
    return ids


def _judged(k: Kit) -> list[tuple[Any, ...]]:
    return k.rows(
        'SELECT "RAW_ID", count(*) FROM "SOPHIA_OPS"."KEEL_JUDGED" '
        "WHERE \"STREAM\" = 'companies' GROUP BY 1 ORDER BY 1"
    )


def _status(report: Any) -> str:
    return str(report.stream("companies").status)


def test_rows_landing_at_and_below_the_watermark_are_judged_and_published_once(
    tmp_path: Path,
) -> None:
    k = Kit(tmp_path, [companies()])
    ts = T0 + dt.timedelta(minutes=1)
    first = T0 + dt.timedelta(hours=2)
    _land_at(k, first, [{"id": "c1", "name": "one", "updated_at": ts}])
    assert _status(k.promote()) == "promoted"
    mark = k.watermark("companies")
    assert mark is not None

    # committed after that gate, extracted at and before the watermark
    later = ts + dt.timedelta(minutes=5)
    _land_at(k, first, [{"id": "c2", "name": "two", "updated_at": later}])
    _land_at(
        k,
        first - dt.timedelta(minutes=30),
        [
            {"id": "c3", "name": "three", "updated_at": later},
            {"id": "c1", "name": "one, renamed", "updated_at": later},
        ],
    )
    report = k.promote()
    assert _status(report) == "promoted"
    assert report.stream("companies").batch.rows == 3
    assert k.published("companies", '"ID", "NAME"') == [
        ("c1", "one, renamed"),
        ("c2", "two"),
        ("c3", "three"),
    ]

    # nothing is pending any more: the next promote finds an empty batch
    assert _status(k.promote()) == "empty"
    judged = _judged(k)
    assert len(judged) == 4 and all(n == 1 for _, n in judged)
    k.close()


def test_a_late_blocked_row_stays_pending_until_fixed(tmp_path: Path) -> None:
    k = Kit(tmp_path, [companies()])
    ts = T0 + dt.timedelta(minutes=1)
    first = T0 + dt.timedelta(hours=2)
    _land_at(k, first, [{"id": "c1", "name": "one", "updated_at": ts}])
    k.promote()

    bad = _land_at(k, first - dt.timedelta(hours=1), [{"id": "c2", "name": None}])
    assert _status(k.promote()) == "blocked"
    assert k.published("companies") == [("c1",)]
    assert _status(k.promote()) == "blocked"  # still pending, judged again
    assert not [r for r, _ in _judged(k) if r in bad]

    # the fix arrives, extracted even earlier: the bad row is replaced (Append + Deduped)
    _land_at(k, first - dt.timedelta(hours=3), [{"id": "c2", "name": "two", "updated_at": ts}])
    assert _status(k.promote()) == "promoted"
    assert k.published("companies", '"ID", "NAME"') == [("c1", "one"), ("c2", "two")]
    k.close()


@pytest.mark.parametrize("minutes", [0, 59])
def test_rows_within_the_lookback_are_pending_and_older_ones_are_not(
    tmp_path: Path, minutes: int
) -> None:
    """The lookback bounds what a gate reads; rows older than it (relative to the
    watermark) are outside the guarantee and documented as such."""
    spec = companies()
    spec["meta"]["keel"]["lookback_hours"] = 1
    k = Kit(tmp_path, [spec])
    first = T0 + dt.timedelta(hours=5)
    _land_at(k, first, [{"id": "c1", "name": "one"}])
    k.promote()
    _land_at(k, first - dt.timedelta(minutes=minutes), [{"id": "c2", "name": "two"}])
    _land_at(k, first - dt.timedelta(hours=2), [{"id": "c3", "name": "three"}])
    k.promote()
    assert k.published("companies") == [("c1",), ("c2",)]
    k.close()


def test_settle_keeps_the_newest_rows_for_the_next_batch(tmp_path: Path) -> None:
    """``settle_seconds``: rows extracted in the last seconds wait, so rows a loader commits
    a little late fall into a later batch instead of changing this one under the gate."""
    from tests.support.gatekit import NOW

    spec = companies()
    spec["meta"]["keel"]["settle_seconds"] = 30
    k = Kit(tmp_path, [spec])
    _land_at(k, NOW - dt.timedelta(seconds=60), [{"id": "c1", "name": "one"}])
    _land_at(k, NOW - dt.timedelta(seconds=5), [{"id": "c2", "name": "two"}])
    assert _status(k.promote()) == "promoted"
    assert k.published("companies") == [("c1",)]
    later = NOW + dt.timedelta(minutes=1)
    k.promote(now=lambda: later)
    assert k.published("companies") == [("c1",), ("c2",)]
    k.close()


def _floor(k: Kit) -> list[tuple[Any, ...]]:
    """(watermark, floor) as aware UTC datetimes (naive values from DuckDB are UTC)."""
    from keel.batch.window import utc

    found = k.rows(
        'SELECT "EXTRACTED_AT", "SETTLED_AT" FROM "SOPHIA_OPS"."KEEL_WATERMARKS" '
        "WHERE \"STREAM\" = 'companies'"
    )
    return [(utc(w), utc(f)) for w, f in found]


def test_a_settled_batch_moves_the_floor_and_the_next_read_starts_at_the_watermark(
    tmp_path: Path,
) -> None:
    """With a promised lateness (``max_lateness_seconds``) every row at or below a gated
    batch's newest extraction had committed when it was gated: publishing it moves the
    stream's floor there, and the next gate reads only rows extracted after the watermark
    (no lookback, no anti-join with the judged ids). Ids are still recorded (transforms)."""
    from tests.support.gatekit import NOW

    spec = companies()
    spec["meta"]["keel"]["max_lateness_seconds"] = 30
    k = Kit(tmp_path, [spec])
    first = NOW - dt.timedelta(hours=2)
    ids = _land_at(
        k, first, [{"id": "c1", "name": "one", "updated_at": T0}, {"id": "c2", "name": "two"}]
    )
    assert _status(k.promote()) == "promoted"
    assert _floor(k) == [(first, first)]
    assert sorted(r for r, _ in _judged(k)) == sorted(ids)

    # a replacement of c1 (Append + Deduped) and a new key, both extracted later
    second = first + dt.timedelta(minutes=10)
    _land_at(
        k,
        second,
        [
            {"id": "c1", "name": "one, renamed", "updated_at": T0 + dt.timedelta(hours=1)},
            {"id": "c3", "name": "three"},
        ],
    )
    report = k.promote()
    assert report.stream("companies").batch.rows == 2
    assert k.published("companies", '"ID", "NAME"') == [
        ("c1", "one, renamed"),
        ("c2", "two"),
        ("c3", "three"),
    ]
    assert _floor(k) == [(second, second)]
    assert _status(k.promote()) == "empty"
    k.close()


def test_without_a_promised_lateness_the_floor_stays(tmp_path: Path) -> None:
    """``settle_seconds`` alone delays rows; it promises nothing, so the floor stays."""
    from tests.support.gatekit import NOW

    spec = companies()
    spec["meta"]["keel"]["settle_seconds"] = 30
    k = Kit(tmp_path, [spec])
    first = NOW - dt.timedelta(hours=2)
    ids = _land_at(k, first, [{"id": "c1", "name": "one"}])
    k.promote()
    assert _floor(k) == [(first, None)]
    assert [r for r, _ in _judged(k)] == ids
    # a row committed hours late is still judged by the lookback
    _land_at(k, first - dt.timedelta(hours=1), [{"id": "c2", "name": "two, late"}])
    k.promote()
    assert k.published("companies") == [("c1",), ("c2",)]
    k.close()


def test_a_batch_of_late_rows_moves_the_floor_only_to_its_newest_extraction(
    tmp_path: Path,
) -> None:
    """The promise is made after a publish more recent than the promised lateness, and the
    batch holds only late rows: the floor goes to the batch's newest extraction, not to the
    watermark, so a row committed later but within the promise is still read."""
    from tests.support.gatekit import NOW

    k = Kit(tmp_path, [companies()])
    recent = NOW - dt.timedelta(minutes=10)
    _land_at(k, recent, [{"id": "c1", "name": "one"}])
    k.promote()
    early = NOW - dt.timedelta(hours=2)
    _land_at(k, early, [{"id": "c0", "name": "zero, late"}])

    spec = companies()
    spec["meta"]["keel"]["max_lateness_seconds"] = 3600
    k.write_contract([spec])
    assert _status(k.promote()) == "promoted"
    assert k.published("companies") == [("c0",), ("c1",)]
    assert _floor(k) == [(recent, early)]

    # extracted 20 minutes before now, committed now: within the promised hour
    _land_at(k, NOW - dt.timedelta(minutes=20), [{"id": "c2", "name": "two"}])
    later = NOW + dt.timedelta(hours=3)
    assert _status(k.promote(now=lambda: later)) == "promoted"
    assert k.published("companies") == [("c0",), ("c1",), ("c2",)]
    k.close()


def test_withdrawing_the_promise_brings_the_lookback_back(tmp_path: Path) -> None:
    """The loader turned out to be late: without the promise a row committed late below the
    old floor is read again (ids were judged all along: nothing published twice)."""
    from tests.support.gatekit import NOW

    spec = companies()
    spec["meta"]["keel"]["max_lateness_seconds"] = 60
    k = Kit(tmp_path, [spec])
    first = NOW - dt.timedelta(hours=2)
    _land_at(k, first, [{"id": "c1", "name": "one"}])
    k.promote()
    assert _floor(k) == [(first, first)]

    k.write_contract([companies()])
    _land_at(k, first - dt.timedelta(minutes=30), [{"id": "c2", "name": "two, late"}])
    report = k.promote()
    assert report.stream("companies").batch.rows == 1
    assert k.published("companies") == [("c1",), ("c2",)]
    assert _floor(k) == [(first, None)]
    assert _status(k.promote()) == "empty"
    judged = _judged(k)
    assert len(judged) == 2 and all(n == 1 for _, n in judged)
    k.close()
