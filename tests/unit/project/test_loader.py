"""Loading and validating keel.yml and contracts: every bad input is one clear message."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from keel.errors import ProjectError
from keel.project.loader import load_project


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _problems(root: Path) -> list[str]:
    with pytest.raises(ProjectError) as info:
        load_project(root)
    return [p.render() for p in info.value.problems]


def _line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_the_sophia_project_loads(project: Path) -> None:
    p = load_project(project)
    assert sorted({s.source for s in p.streams.values()}) == [
        "gong",
        "hubspot",
        "netsuite",
        "slack",
    ]
    assert p.streams["hubspot.contacts"].keel.primary_key == ["id"]
    assert p.streams["hubspot.contacts"].raw_schema == "HUBSPOT_DATA_RAW"
    assert p.streams["gong.calls"].tag["vector_index"] == "true"
    names = [s.name for s in p.schemas()]
    assert names[:4] == ["SOPHIA_SEMANTIC", "SOPHIA_INSIGHTS", "SOPHIA_ML", "SOPHIA_OPS"]
    assert "GONG_DATA_RAW" in names and "NETSUITE_DATA" in names
    for source in ("gong", "hubspot", "slack", "netsuite"):
        tests = [t for s in p.streams_of(source) for t in s.all_tests]
        assert len(tests) >= 3
        assert {"not_null", "unique"} <= {t.name for t in tests}


def test_malformed_yaml_names_file_and_line(project: Path) -> None:
    kf = project / "keel.yml"
    _edit(kf, "name: sophia-ai", "name: [sophia-ai")
    (msg,) = _problems(project)
    assert msg.startswith("keel.yml:")
    assert "invalid YAML" in msg


def test_unknown_key_with_did_you_mean(project: Path) -> None:
    kf = project / "keel.yml"
    _edit(kf, "    schedule: hourly", "    schedul: hourly")
    (msg,) = _problems(project)
    line = _line_of(kf, "schedul:")
    assert msg.startswith(f"keel.yml:{line}: unknown key 'sources.gong.schedul'")
    assert "did you mean 'schedule'?" in msg


def test_value_outside_allowed_set(project: Path) -> None:
    kf = project / "keel.yml"
    _edit(kf, "  engine: duckdb", "  engine: duckbd")
    (msg,) = _problems(project)
    assert f"keel.yml:{_line_of(kf, 'engine: duckbd')}" in msg
    assert "'duckbd' is not allowed" in msg and "did you mean 'duckdb'?" in msg


def test_tag_value_not_allowed_in_contract(project: Path) -> None:
    cf = project / "contracts/gong.yml"
    _edit(cf, "entity_type: call", "entity_type: cal")
    (msg,) = _problems(project)
    assert msg.startswith(
        f"contracts/gong.yml:{_line_of(cf, 'entity_type: cal')}: table gong.calls"
    )
    assert "did you mean 'call'?" in msg


def test_tag_key_typo_in_meta(project: Path) -> None:
    cf = project / "contracts/slack.yml"
    _edit(cf, "      pii_level: none\n", "      pii_levl: none\n")
    msgs = _problems(project)
    assert any("unknown tag key 'pii_levl'" in m and "did you mean 'pii_level'?" in m for m in msgs)


def test_tag_json_over_256_characters_names_the_object(project: Path) -> None:
    kf = project / "keel.yml"
    long_value = "x" * 250
    _edit(kf, "    layer: [raw,", f"    layer: [{long_value}, raw,")
    _edit(kf, "layer: semantic", f"layer: {long_value}")
    (msg,) = _problems(project)
    assert "schema SOPHIA_SEMANTIC: tag value is" in msg and "over the limit of 256" in msg


def test_unknown_test_is_kept_and_warned_once_not_an_error(project: Path) -> None:
    cf = project / "contracts/hubspot.yml"
    _edit(cf, "data_tests: [not_null, unique]", "data_tests: [not_nul, unique]")
    p = load_project(project)
    (test,) = p.not_run_tests()
    assert test.name == "not_nul" and test.line == _line_of(cf, "not_nul,")
    (warning,) = p.not_run_warnings()
    assert warning.startswith("data test 'not_nul' is kept but not run by keel's gate")
    assert f"contracts/hubspot.yml:{test.line}" in warning and "did you mean 'not_null'?" in warning


def test_test_with_wrong_arguments(project: Path) -> None:
    cf = project / "contracts/netsuite.yml"
    _edit(cf, "values: [USD, EUR, GBP]", "valuez: [USD, EUR, GBP]")
    msgs = _problems(project)
    assert any(
        "test 'accepted_values' has no argument 'valuez'" in m and "did you mean 'values'" in m
        for m in msgs
    )
    assert any("test 'accepted_values' needs the argument 'values'" in m for m in msgs)


def test_contract_naming_a_missing_column(project: Path) -> None:
    cf = project / "contracts/hubspot.yml"
    _edit(cf, "cursor: updated_at", "cursor: updatedat")
    msgs = _problems(project)
    assert any(
        "meta.keel names column 'updatedat'" in m and "did you mean 'updated_at'" in m for m in msgs
    )


def test_relationship_to_unknown_stream(project: Path) -> None:
    cf = project / "contracts/hubspot.yml"
    _edit(cf, "to: source('hubspot', 'companies')", "to: source('hubspot', 'company')")
    msgs = _problems(project)
    assert any("points at hubspot.company" in m and "hubspot.companies" in m for m in msgs)


def test_every_problem_in_both_files_is_reported_at_once(project: Path) -> None:
    _edit(project / "keel.yml", "    schedule: hourly", "    schedul: hourly")
    _edit(project / "contracts/gong.yml", "entity_type: call", "entity_type: cal")
    _edit(project / "contracts/netsuite.yml", "values: [USD, EUR, GBP]", "valuez: [USD, EUR, GBP]")
    msgs = _problems(project)
    assert len(msgs) == 4  # valuez: an unknown argument and a missing one
    assert {m.split(":")[0] for m in msgs} == {
        "keel.yml",
        "contracts/gong.yml",
        "contracts/netsuite.yml",
    }


def test_env_substitution(project: Path) -> None:
    kf = project / "keel.yml"
    _edit(kf, "name: sophia-ai", "name: ${KEEL_TEST_NAME:-fallback}")
    assert load_project(project, env={}).spec.name == "fallback"
    assert load_project(project, env={"KEEL_TEST_NAME": "prod"}).spec.name == "prod"


def test_unset_secret_is_reported_only_when_needed(project: Path) -> None:
    kf = project / "keel.yml"
    _edit(
        kf,
        "  engine: duckdb\n  path: .keel/warehouse.duckdb",
        "  engine: postgres\n  dsn: ${KEEL_PG_DSN}",
    )
    p = load_project(project, env={})
    assert p.spec.warehouse.dsn is None
    with pytest.raises(ProjectError) as info:
        p.require_env("warehouse.dsn")
    assert "KEEL_PG_DSN" in str(info.value)


def test_secrets_are_not_in_repr(project: Path) -> None:
    kf = project / "keel.yml"
    _edit(kf, "${SLACK_WEBHOOK_URL:-}", "${SLACK_WEBHOOK_URL}")
    p = load_project(project, env={"SLACK_WEBHOOK_URL": "https://hooks.slack.test/T000/SECRET"})
    assert "SECRET" not in repr(p.spec) and "SECRET" not in str(dataclasses.asdict(p.spec))
    assert p.spec.alerts.slack.webhook_url is not None
    assert p.spec.alerts.slack.webhook_url.get_secret_value().endswith("SECRET")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "no keel.yml"),
    ],
)
def test_cli_bad_project_exit_1_without_traceback(
    tmp_path: Path, keel: Any, args: tuple[str, ...], needle: str
) -> None:
    r = keel("plan", project=tmp_path)
    assert r.exit_code == 1
    assert needle in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_reports_all_problems_exit_1(project: Path, keel: Any) -> None:
    _edit(project / "keel.yml", "    schedule: hourly", "    schedul: hourly")
    _edit(project / "contracts/gong.yml", "entity_type: call", "entity_type: cal")
    r = keel("plan", project=project)
    assert r.exit_code == 1
    assert "the project has 2 problems" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("body", ["sources: 7", "sources: [{name: hubspot, tables: 3}]",
                                  "sources: [{name: hubspot, tables: [{name: t, columns: 1}]}]"])  # fmt: skip
def test_a_contract_of_the_wrong_shape_names_file_and_line(project: Path, body: str) -> None:
    """A scalar where dbt expects a list was an "internal error" (TypeError) (issue 11)."""
    (project / "contracts" / "extra.yml").write_text(f"version: 2\n{body}\n")
    found = [p for p in _problems(project) if p.startswith("contracts/extra.yml:2: ")]
    assert found and all("valid list" in p for p in found), found
