"""The real ``airbyte-source-faker`` from PyPI, installed and ingested into DuckDB.

The connector's venv is cached in pytest's cache folder
(``.pytest_cache/d/keel-connectors``), so only the first run pays for the
install; delete that folder (or run ``pytest --cache-clear``) to reinstall.
Needs the package index.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import duckdb
import pytest

from keel.errors import IngestError
from keel.ingest.connectors import ensure_connector
from keel.ingest.protocol import Connector
from keel.ingest.runner import ingest_source

pytestmark = pytest.mark.slow

CONFIG = {"count": 200, "seed": 1, "parallelism": 1}
STREAMS = ["users", "purchases"]


@pytest.fixture(scope="session")
def faker(request: pytest.FixtureRequest) -> list[str]:
    root = Path(request.config.cache.mkdir("keel-connectors"))
    return ensure_connector("source-faker", root)


def _emitted(argv: list[str], tmp_path: Path) -> dict[str, list[dict[str, Any]]]:
    """Run the connector's read ourselves and collect its records per stream."""
    catalog = {
        "streams": [
            {
                "stream": {"name": s, "json_schema": {}, "supported_sync_modes": ["incremental"]},
                "sync_mode": "incremental",
                "cursor_field": ["updated_at"],
                "destination_sync_mode": "append_dedup",
                "primary_key": [["id"]],
            }
            for s in STREAMS
        ]
    }
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    done = subprocess.run(
        [*argv, "read", "--config", str(tmp_path / "config.json"),
         "--catalog", str(tmp_path / "catalog.json")],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    records: dict[str, list[dict[str, Any]]] = {s: [] for s in STREAMS}
    for line in done.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records[message["record"]["stream"]].append(message["record"]["data"])
    return records


def test_faker_users_and_purchases_land_as_emitted(faker: list[str], tmp_path: Path) -> None:
    connector = Connector(faker)
    assert "count" in connector.spec().connectionSpecification["properties"]
    assert connector.check(CONFIG).status.value == "SUCCEEDED"

    emitted = _emitted(faker, tmp_path)
    conn = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    result = ingest_source(conn, source="faker", command=faker, config=CONFIG, streams=STREAMS)
    for stream in STREAMS:
        expected = {r["id"]: r for r in emitted[stream]}
        assert len(expected) > 0
        table = f"FAKER_DATA_RAW.{stream.upper()}"
        ids = [r[0] for r in conn.execute(f"SELECT ID FROM {table}").fetchall()]
        assert sorted(ids) == sorted(expected), stream
        assert result.stream(stream).committed == len(emitted[stream])
        assert result.stream(stream).destination_sync_mode == "append_dedup"
    # same seed, same content (updated_at is the sync's own time, so it is left out)
    emails = dict(conn.execute("SELECT ID, EMAIL FROM FAKER_DATA_RAW.USERS").fetchall())
    assert emails == {i: r["email"] for i, r in {r["id"]: r for r in emitted["users"]}.items()}
    buyers = dict(conn.execute("SELECT ID, USER_ID FROM FAKER_DATA_RAW.PURCHASES").fetchall())
    assert buyers == {r["id"]: r["user_id"] for r in emitted["purchases"]}
    city = conn.execute(
        "SELECT ADDRESS->>'city' FROM FAKER_DATA_RAW.USERS ORDER BY ID LIMIT 1"
    ).fetchone()
    assert city is not None and city[0] == emitted["users"][0]["address"]["city"]
    states = dict(
        conn.execute(
            "SELECT STREAM, STATE FROM SOPHIA_OPS.KEEL_STATE WHERE SOURCE = 'faker'"
        ).fetchall()
    )
    assert set(states) == set(STREAMS)

    # a second sync passes the committed state back; keys stay unique
    again = ingest_source(conn, source="faker", command=faker, config=CONFIG, streams=STREAMS)
    for stream in STREAMS:
        n, distinct = conn.execute(
            f"SELECT count(*), count(DISTINCT ID) FROM FAKER_DATA_RAW.{stream.upper()}"
        ).fetchone() or (0, 0)
        assert n == distinct == len({r["id"] for r in emitted[stream]})
        assert again.stream(stream).state is not None
    conn.close()


def test_an_unknown_package_is_reported_from_the_real_index(tmp_path: Path) -> None:
    with pytest.raises(IngestError) as info:
        ensure_connector("source-nope-keel-does-not-exist", tmp_path)
    assert str(info.value) == (
        "connector package airbyte-source-nope-keel-does-not-exist "
        "was not found on the package index"
    )
