"""Issue 11, defect 1, against real engines: contract SQL cannot escape the gate.

Each hostile ``where`` / ``expression`` / range bound is refused when the project
loads (file:line named) and the warehouse is untouched: the schemas the attacks
aimed at still exist, the file ``COPY ... TO`` aimed at was never written. Strings
that merely *contain* an attack are legal SQL and run as strings. On DuckDB the
connection itself refuses file access and setting changes (DuckDB's "Securing
DuckDB" settings ``enable_external_access`` and ``lock_configuration``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.support.gatekit import Kit, col, companies, table

from keel.context import Context
from keel.errors import KeelError, ProjectError, QualityError
from keel.quality.gate import gate

Make = Callable[..., Kit]
ATTACK = "DROP SCHEMA HUBSPOT_DATA CASCADE"


def hostile(leak: Path) -> list[tuple[str, Any]]:
    """(kind, spec): kind is where | expression | min_value."""
    return [
        (
            "where",
            f"$$'$$ IS NOT NULL) THEN 1 ELSE 0 END FROM \"__KEEL_B\") SELECT 1; {ATTACK}; -- '",
        ),
        (
            "where",
            f"E'\\'' IS NOT NULL) THEN 1 ELSE 0 END FROM \"__KEEL_B\") SELECT 1; {ATTACK}; -- '",
        ),
        ("where", "name <> $$x$$); DROP SCHEMA SOPHIA_OPS CASCADE; --"),
        ("expression", f"COPY (SELECT * FROM HUBSPOT_DATA_RAW.COMPANIES) TO '{leak}'"),
        ("expression", f"length(name) > 0 OR (SELECT 1 FROM (COPY x TO '{leak}'))"),
        ("where", "read_text('/etc/hostname') IS NOT NULL"),
        ("where", "(SELECT count(*) FROM SOPHIA_OPS.KEEL_APPLY_LOG) >= 0"),
        ("where", "SOPHIA_OPS.KEEL_APPLY_LOG.ID IS NULL"),
        ("where", "pg_read_file('/etc/passwd') <> ''"),
        ("where", "current_setting('data_directory') <> ''"),
        ("where", "pg_sleep(3600) IS NULL"),
        ("min_value", f"0); {ATTACK}; --"),
        ("min_value", "(SELECT max(id) FROM SOPHIA_OPS.KEEL_BATCHES)"),
    ]


def spec_with(kind: str, text: str) -> dict[str, Any]:
    if kind == "where":
        test: Any = {"not_null": {"config": {"where": text}}}
    elif kind == "expression":
        test = {"expression_is_true": {"arguments": {"expression": text}}}
    else:
        test = {"accepted_range": {"arguments": {"min_value": text}}}
    return table(
        "companies",
        "company",
        [col("id", tests=["not_null"]), col("name", tests=[test]), col("updated_at", "timestamp")],
    )


# Legal fragments whose strings hold an attack: they run, as strings.
TRICKY = [
    {"not_null": {"config": {"where": f"name <> 'a'') OR 1=1; {ATTACK}; --'"}}},
    {"accepted_values": {"arguments": {"values": ["a", "b"]}, "config": {"where": "name <> '\\'"}}},
    {"expression_is_true": {"arguments": {"expression": f"<> 'x''); {ATTACK}; --'"}}},
]


def tricky_spec() -> dict[str, Any]:
    return table(
        "companies",
        "company",
        [col("id", tests=["not_null"]), col("name", tests=TRICKY), col("updated_at", "timestamp")],
    )


def test_duckdb_hostile_fragments_refused_at_load_with_no_damage(kit: Make, tmp_path: Path) -> None:
    leak = tmp_path / "leak.csv"
    k = kit([companies()])
    k.land("companies", [{"id": "c1", "name": "a@b.example"}])
    contract = k.root / "contracts" / "hubspot.yml"
    for kind, text in hostile(leak):
        k.write_contract([spec_with(kind, text)])
        with pytest.raises(ProjectError) as info:
            k.gate()
        message = info.value.message
        assert "contracts/hubspot.yml:" in message, message
        assert "is not a SQL expression" in message
        assert "Traceback" not in message
        assert contract.exists()
    assert not leak.exists()
    schemas = {r[0] for r in k.rows("SELECT schema_name FROM information_schema.schemata")}
    assert {"HUBSPOT_DATA", "HUBSPOT_DATA_RAW", "SOPHIA_OPS"} <= schemas
    assert k.rows('SELECT count(*) FROM "HUBSPOT_DATA_RAW"."COMPANIES"') == [(1,)]


def test_duckdb_strings_holding_attacks_run_as_strings(kit: Make) -> None:
    k = kit([tricky_spec()])
    k.land("companies", [{"id": "c1", "name": "a"}, {"id": "c2", "name": "\\"}])
    report = k.gate()
    by_id = {r.check.id: r for r in report.streams[0].checks}
    assert by_id["not_null.NAME"].status == "pass"
    # 'a' is accepted; the row '\' is excluded by its where: nothing fails
    assert by_id["accepted_values.NAME"].failing_rows == 0
    # the expression is `name <> 'x''); DROP ...'`: both rows satisfy it
    assert by_id["expression.NAME"].failing_rows == 0
    schemas = {r[0] for r in k.rows("SELECT schema_name FROM information_schema.schemata")}
    assert {"HUBSPOT_DATA", "SOPHIA_OPS"} <= schemas


def test_duckdb_connection_refuses_files_and_setting_changes(kit: Make, tmp_path: Path) -> None:
    k = kit([companies()])
    leak = tmp_path / "copied.csv"
    for sql in (
        "SELECT * FROM read_text('/etc/hostname')",
        f"COPY (SELECT 1) TO '{leak}'",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "INSTALL httpfs",
    ):
        with pytest.raises(KeelError):
            k.ctx.adapter.fetch(sql)
    assert not leak.exists()


def test_internal_columns_are_not_the_streams_columns(kit: Make) -> None:
    k = kit([spec_with("where", '"__KEEL_WIN" = 1')])
    k.land("companies", [{"id": "c1", "name": "a"}])
    with pytest.raises(
        QualityError, match=r"hubspot.yml:\d+: .*column '__KEEL_WIN' is not a column"
    ):
        k.gate()


@pytest.mark.postgres
def test_postgres_hostile_fragments_refused_and_strings_run(
    pg_project: Callable[..., Path], pg_db: Any, tmp_path: Path
) -> None:
    root = pg_project()
    contract = root / "contracts" / "hubspot.yml"
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()

    def write(spec: dict[str, Any]) -> None:
        doc = {"version": 2, "sources": [{"name": "hubspot", "tables": [spec]}]}
        contract.write_text(yaml.safe_dump(doc, sort_keys=False))

    write(tricky_spec())
    with Context(root) as ctx:
        ctx.apply()
    pg_db.sql(
        "CREATE TABLE hubspot_data_raw.companies (id text, name text, updated_at timestamptz, "
        "_airbyte_raw_id text, _airbyte_extracted_at timestamptz, _airbyte_meta jsonb, "
        "_airbyte_generation_id bigint)",
        "INSERT INTO hubspot_data_raw.companies VALUES "
        "('c1', 'a', now(), 'r1', '2026-01-01T01:00:00Z', '{}', 1), "
        "('c2', '\\', now(), 'r2', '2026-01-01T01:00:00Z', '{}', 1)",
    )
    with Context(root) as ctx:
        report = gate(ctx.project, ctx.adapter, "hubspot")
    by_id = {r.check.id: r for r in report.streams[0].checks}
    assert by_id["accepted_values.NAME"].failing_rows == 0
    assert by_id["expression.NAME"].failing_rows == 0
    leak = tmp_path / "leak.csv"
    for kind, text in hostile(leak):
        write(spec_with(kind, text))
        with pytest.raises(ProjectError, match=r"contracts/hubspot.yml:\d+: .*is not a SQL"):
            Context(root).project  # noqa: B018 - loading is the check
    assert not leak.exists()
    schemas = {r[0] for r in pg_db.rows("SELECT nspname FROM pg_namespace")}
    assert {"hubspot_data", "hubspot_data_raw", "sophia_ops"} <= schemas
    assert pg_db.rows("SELECT count(*) FROM hubspot_data_raw.companies") == [(2,)]


def test_cli_refuses_a_hostile_contract_with_one_clear_message(kit: Make, keel: Any) -> None:
    k = kit([companies()])
    k.close()
    k.write_contract([spec_with("where", hostile(Path("/nonexistent"))[0][1])])
    for command in (
        ("plan",),
        ("gate", "hubspot"),
        ("promote", "hubspot"),
        ("gate", "hubspot", "--json"),
    ):
        result = keel(*command, project=k.root)
        out = result.stdout + result.stderr
        assert result.exit_code == 1, (command, out)
        assert "Traceback" not in out and "internal error" not in out
        assert "contracts/hubspot.yml:" in out and "does not parse as duckdb SQL" in out


@pytest.mark.parametrize("key", ["from_condition", "to_condition"])
def test_relationships_where_conditions_are_contract_sql_too(kit: Make, key: str) -> None:
    k = kit([companies()])
    child = table(
        "contacts",
        "contact",
        [
            col("id", tests=["not_null"]),
            col(
                "company_id",
                tests=[
                    {
                        "relationships": {
                            "arguments": {
                                "to": "source('hubspot', 'companies')",
                                "field": "id",
                                key: f"1 = 1); {ATTACK}; --",
                            }
                        }
                    }
                ],
            ),
            col("updated_at", "timestamp"),
        ],
    )
    k.write_contract([companies(), child])
    with pytest.raises(ProjectError, match=rf"hubspot.yml:\d+: .*{key} is not a SQL expression"):
        k.gate()
    schemas = {r[0] for r in k.rows("SELECT schema_name FROM information_schema.schemata")}
    assert "HUBSPOT_DATA" in schemas
