"""Real-world dbt sources files load unchanged: plan exits 0, every data test is counted
by the audit, names that come from jinja are the rendered ones.

The fixtures in tests/fixtures/dbt_sources/ are keel's own files that use the same
constructs as public sources files (each names the file it mirrors in its header).
Counts below are the data tests written in each fixture, counted by hand; disabled
tables (``config.enabled`` false) are left out, as dbt leaves them out.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.project.loader import load_project

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dbt_sources"


def _project(root: Path, sources: list[str], files: list[str], **extra: Any) -> Path:
    from keel.project.init import write_project

    write_project(root)
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()
    for name in files:
        shutil.copy(FIXTURES / name, root / "contracts" / name)
    doc = yaml.safe_load((root / "keel.yml").read_text())
    for source in sources:
        doc["sources"].setdefault(source, {"schedule": "daily"})
        allowed = doc["metadata_tag"]["keys"]["data_source"]
        if source not in allowed:
            allowed.append(source)
    doc.update(extra)
    (root / "keel.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


def _audit(keel: Callable[..., Any], root: Path) -> dict[str, Any]:
    plan = keel("plan", "--json", project=root)
    assert plan.exit_code == 0, plan.stderr
    assert keel("apply", "--yes", project=root).exit_code == 0
    audit = keel("audit", "--json", project=root)
    assert "Traceback" not in audit.stderr
    return audit.json()  # type: ignore[no-any-return]


def test_the_current_hubspot_package_file(tmp_path: Path, keel: Callable[..., Any]) -> None:
    root = _project(tmp_path / "p", ["hubspot"], ["hubspot_current.yml"])
    project = load_project(root)
    streams = {s.name: s for s in project.streams_of("hubspot")}
    # contact_merge_audit: config.enabled renders to False (var default false)
    assert sorted(streams) == ["company", "contact", "deal"]
    # schema: var('hubspot_schema', 'hubspot'); identifiers: var(..., 'company')
    assert {s.raw_schema for s in streams.values()} == {"HUBSPOT"}
    assert streams["company"].table == "COMPANY"
    assert streams["contact"].freshness is not None
    assert streams["contact"].loaded_at_field == "_fivetran_synced"
    data = _audit(keel, root)
    # company 3 (not_null, unique, accepted_values), contact 3, deal 3
    assert data["tests"]["sources"]["hubspot"] == 9
    assert data["tests"]["not_run"] == {}
    proposed = {p["object"]: p["value"] for p in data["proposed"]}
    assert set(proposed) == {"hubspot.company", "hubspot.contact", "hubspot.deal"}
    assert proposed["hubspot.company"] == "company" and proposed["hubspot.deal"] == "deal"


def test_the_older_hubspot_file_with_a_required_var(
    tmp_path: Path, keel: Callable[..., Any]
) -> None:
    root = _project(tmp_path / "p", ["hubspot_legacy"], ["hubspot_older.yml"])
    # database: "{{ var('hubspot_database') }}" has no default: dbt's error, with the file
    plan = keel("plan", project=root)
    assert plan.exit_code == 1 and "Traceback" not in plan.stderr
    assert "contracts/hubspot_older.yml:12: cannot render" in plan.stderr
    assert "Required var 'hubspot_database' not found" in plan.stderr
    doc = yaml.safe_load((root / "keel.yml").read_text())
    doc["vars"] = {"hubspot_database": "raw", "hubspot_schema": "hubspot_legacy"}
    (root / "keel.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    project = load_project(root)
    assert {s.raw_schema for s in project.streams_of("hubspot_legacy")} == {"HUBSPOT_LEGACY"}
    calendar = project.streams["hubspot_legacy.calendar_event"]
    accepted = next(t for t in calendar.all_tests if t.name == "accepted_values")
    assert accepted.severity == "warn" and accepted.args == {
        "values": ["PUBLISHING_TASK", "CONTENT", "SOCIAL"]
    }
    data = _audit(keel, root)
    # calendar_event 3, contact 4 (2 table-level + 2 column), deal_stage 3
    assert data["tests"]["sources"]["hubspot_legacy"] == 10
    assert data["tests"]["not_run"] == {"dbt_utils.at_least_one": 1, "dbt_utils.not_constant": 1}


def test_a_public_sector_file_and_a_dbt_project_read_in_place(
    tmp_path: Path, keel: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNOWFLAKE_LOAD_DATABASE", "RAW")
    monkeypatch.delenv("DBT_SOURCE_DATABASE", raising=False)
    dbt_dir = tmp_path / "analytics_dbt"
    shutil.copytree(FIXTURES / "analytics_dbt", dbt_dir)
    root = _project(
        tmp_path / "p",
        ["transit", "zuora"],
        ["transit_public.yml"],
        dbt_project="../analytics_dbt",
    )
    project = load_project(root)
    assert sorted(project.streams) == [
        "transit.agency_info",
        "transit.annual_ridership",
        "zuora.account",
        "zuora.invoice_item",
        "zuora.rate_plan_charge",
    ]
    # identifier jinja on target.type (duckdb); schema from the dbt project's scoped vars
    assert project.streams["transit.agency_info"].table == "AGENCY_INFORMATION"
    assert project.streams["zuora.account"].raw_schema == "ZUORA_STITCH"
    assert project.streams["zuora.invoice_item"].table == "INVOICEITEM"
    assert project.streams["zuora.account"].file == (
        "../analytics_dbt/models/staging/zuora/sources.yml"
    )
    # source freshness inherited; `freshness: null` on a table turns it off
    assert project.streams["zuora.account"].freshness is not None
    assert project.streams["zuora.rate_plan_charge"].freshness is None
    # the anchored column and the merged x- block both arrive with their tests
    ridership = project.streams["transit.annual_ridership"]
    assert ridership.column("report_year") is not None
    assert ridership.column("report_year").data_type == "bigint"  # type: ignore[union-attr]
    data = _audit(keel, root)
    # transit: annual_ridership 6 (one kept, not run), agency_info 2; zuora: 2 + 1 + 0
    assert data["tests"]["sources"]["transit"] == 8
    assert data["tests"]["sources"]["zuora"] == 3
    assert data["tests"]["not_run"] == {"dbt_expectations.expect_table_columns_to_match_set": 1}


def test_keel_init_from_dbt_points_at_the_dbt_project(
    tmp_path: Path, keel: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNOWFLAKE_LOAD_DATABASE", "RAW")
    dbt_dir = tmp_path / "analytics_dbt"
    shutil.copytree(FIXTURES / "analytics_dbt", dbt_dir)
    root = tmp_path / "keel"
    r = keel("init", str(root), "--from-dbt", str(dbt_dir))
    assert r.exit_code == 0, r.stderr
    doc = yaml.safe_load((root / "keel.yml").read_text())
    assert doc["dbt_project"] == "../analytics_dbt"
    assert list(doc["sources"]) == ["zuora"]
    assert list((root / "contracts").glob("*.yml")) == []  # nothing copied
    assert keel("plan", project=root).exit_code == 0
    assert sorted(load_project(root).streams) == [
        "zuora.account",
        "zuora.invoice_item",
        "zuora.rate_plan_charge",
    ]
