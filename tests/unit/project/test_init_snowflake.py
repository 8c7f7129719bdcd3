"""``keel init --engine snowflake``: the warehouse block docs/snowflake.md describes."""

from __future__ import annotations

from pathlib import Path

import yaml

from keel.project.init import write_project
from keel.project.loader import load_project

ENV = {
    "SNOWFLAKE_ACCOUNT": "xy12345",
    "SNOWFLAKE_USER": "KEEL",
    "SNOWFLAKE_PASSWORD": "pw",
    "SNOWFLAKE_WAREHOUSE": "SOPHIA_WH",
    "SNOWFLAKE_DATABASE": "SOPHIA",
}


def test_init_writes_the_snowflake_warehouse_block_from_env_vars(tmp_path: Path) -> None:
    write_project(tmp_path, engine="snowflake")
    text = (tmp_path / "keel.yml").read_text()
    block = yaml.safe_load(text)["warehouse"]
    assert block == {
        "engine": "snowflake",
        "account": "${SNOWFLAKE_ACCOUNT}",
        "user": "${SNOWFLAKE_USER}",
        "password": "${SNOWFLAKE_PASSWORD}",
        "role": "${SNOWFLAKE_ROLE:-SOPHIA_AI_ADMIN_ROLE}",
        "warehouse": "${SNOWFLAKE_WAREHOUSE}",
        "database": "${SNOWFLAKE_DATABASE}",
        "roles_as": "USERADMIN",
        "grants_as": "SECURITYADMIN",
    }
    # the options are explained where they are set (docs/snowflake.md's recommendation)
    note = text[: text.index("  roles_as: USERADMIN")].splitlines()[-3:]
    assert all(line.startswith("  # ") for line in note) and "docs/snowflake.md" in note[0]

    loaded = load_project(tmp_path, ENV).spec.warehouse
    assert (loaded.role, loaded.warehouse, loaded.database) == (
        "SOPHIA_AI_ADMIN_ROLE",
        "SOPHIA_WH",
        "SOPHIA",
    )
    assert (loaded.roles_as, loaded.grants_as) == ("USERADMIN", "SECURITYADMIN")
    assert load_project(tmp_path, {**ENV, "SNOWFLAKE_ROLE": "KEEL_RUNNER"}).spec.warehouse.role == (
        "KEEL_RUNNER"
    )


def test_init_on_duckdb_has_no_snowflake_options(tmp_path: Path) -> None:
    write_project(tmp_path)
    text = (tmp_path / "keel.yml").read_text()
    assert "roles_as" not in text and "USERADMIN" not in text
