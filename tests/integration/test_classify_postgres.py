"""Sampling on PostgreSQL hands jsonb documents to classification as JSON text."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keel.adapters.postgres import PostgresAdapter
from keel.governance.classify_rules import classify_column

pytestmark = pytest.mark.postgres


def test_jsonb_column_is_sampled_and_classified_by_keys(pg_db: Any) -> None:
    pg_db.sql(
        "CREATE SCHEMA slack_data_raw",
        "CREATE TABLE slack_data_raw.users (id text, profile jsonb, status text)",
        "INSERT INTO slack_data_raw.users VALUES "
        """('U1', '{"real_name": "Ann Lee", "email": "ann@acme.com"}', 'ACTIVE'), """
        """('U2', '{"real_name": "Wei Chen", "email": "wei@globex.io"}', 'ACTIVE'), """
        """('U3', '{"real_name": "Sven Berg", "email": "sven@initech.co.uk"}', 'INVITED')""",
    )
    pg = PostgresAdapter(dsn=pg_db.admin_dsn)
    try:
        out = pg.sample([("SLACK_DATA_RAW", "USERS", ("PROFILE", "STATUS"))], 10)
    finally:
        pg.close()
    docs = [json.loads(v) for v in out[("SLACK_DATA_RAW", "USERS", "PROFILE")]]
    assert sorted(d["email"] for d in docs) == [
        "ann@acme.com",
        "sven@initech.co.uk",
        "wei@globex.io",
    ]
    p = classify_column("PROFILE", "JSONB", out[("SLACK_DATA_RAW", "USERS", "PROFILE")])
    assert p.pii_level == "high"
    assert set(next(e for e in p.evidence if e.rule == "json_keys").keys) == {"email", "real_name"}
    assert (
        classify_column("STATUS", "TEXT", out[("SLACK_DATA_RAW", "USERS", "STATUS")]).pii_level
        == "none"
    )
