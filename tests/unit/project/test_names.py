"""Names are checked when the project loads (keel.project.names): reserved roles, engine
length limits, empty/NUL names and collisions after folding, each naming the object."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.errors import ProjectError
from keel.project.init import write_project
from keel.project.loader import load_project
from keel.project.names import fold

Edit = Callable[[Callable[[dict[str, Any]], None]], str]


@pytest.fixture
def problems(tmp_path: Path) -> Callable[..., str]:
    """Apply ``change`` to keel.yml (for ``engine``); the ProjectError's text."""

    def run(change: Callable[[dict[str, Any]], None], engine: str = "duckdb") -> str:
        root = tmp_path / engine
        if not root.exists():
            write_project(root, engine=engine)
        path = root / "keel.yml"
        doc = yaml.safe_load(path.read_text())
        change(doc)
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        with pytest.raises(ProjectError) as info:
            load_project(root, env={"KEEL_PG_DSN": "postgresql://x"})
        text = info.value.message
        assert "internal error" not in text and "Traceback" not in text
        return text

    return run


def test_public_is_refused_as_a_role_and_as_a_grantee(problems: Callable[..., str]) -> None:
    text = problems(lambda d: d["roles"].update({"PUBLIC": {"read": ["SOPHIA_SEMANTIC"]}}))
    assert "role 'PUBLIC': PUBLIC is a reserved role name on duckdb" in text
    text = problems(
        lambda d: d["roles"]["SOPHIA_AI_APP_ROLE"].update({"granted_to": ["public"]}),
        engine="postgres",
    )
    assert "role 'SOPHIA_AI_APP_ROLE': granted_to 'public': public is a reserved role" in text
    assert "keel.yml:" in text


def test_postgres_reserved_prefix_and_snowflake_system_roles(problems: Callable[..., str]) -> None:
    text = problems(lambda d: d["roles"].update({"pg_monitor": {}}), engine="postgres")
    assert "role 'pg_monitor': pg_monitor is a reserved role name on postgres" in text
    text = problems(lambda d: d["roles"].update({"ACCOUNTADMIN": {}}), engine="snowflake")
    assert "ACCOUNTADMIN is a reserved role name on snowflake" in text


def test_names_over_the_engine_limit_name_the_limit(problems: Callable[..., str]) -> None:
    long_pg = "S" + "ä" * 32  # 65 bytes, 33 characters
    text = problems(lambda d: d["schemas"].update({long_pg: {}}), engine="postgres")
    assert (
        f"schema {long_pg!r}: the name is 65 bytes long, over postgres's limit of 63 bytes "
        "(shorten it: PostgreSQL would silently truncate it)" in text
    )
    text = problems(lambda d: d["schemas"].update({"S" * 256: {}}), engine="snowflake")
    assert "the name is 256 characters long, over snowflake's limit of 255 characters" in text


def test_names_colliding_after_folding_are_refused_naming_both(
    problems: Callable[..., str],
) -> None:
    text = problems(lambda d: d["schemas"].update({"dupe_schema": {}, "DUPE_SCHEMA": {}}))
    assert "schema 'DUPE_SCHEMA' and schema 'dupe_schema' (keel.yml:" in text
    assert "are the same name once the engine folds case and Unicode" in text
    text = problems(lambda d: d["schemas"].update({"strasse": {}, "straße": {}}))
    assert "schema 'straße' and schema 'strasse'" in text
    assert fold("ﬁle") == fold("FILE")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "the name is empty"),
        ("  ", "the name is empty"),
        ("A\x00B", "the name contains a NUL character"),
        ("A\nB", "the name contains control character U+000A"),
        (" A", "the name starts or ends with a space"),
    ],
)
def test_empty_and_nul_schema_names_are_clear_errors(
    problems: Callable[..., str], name: str, why: str
) -> None:
    text = problems(lambda d: d["schemas"].update({name: {}}))
    assert f"schema {name!r}: {why}" in text


def test_contract_columns_colliding_after_folding(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write_project(root)
    contract = next((root / "contracts").glob("*.yml"))
    doc = yaml.safe_load(contract.read_text())
    columns = doc["sources"][0]["tables"][0]["columns"]
    columns.append({"name": f"{columns[0]['name']}".upper().replace("_", "_")})
    columns.append({"name": "Straße"})
    columns.append({"name": "STRASSE"})
    contract.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    with pytest.raises(ProjectError) as info:
        load_project(root)
    text = info.value.message
    # canonical names are upper case: STRASSE twice (Straße folds to it), and the first
    # column again
    assert "column 'strasse' is declared twice (also at contracts/" in text
