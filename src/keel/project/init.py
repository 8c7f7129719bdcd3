"""``keel init``: write the Sophia project (keel.yml and one contract per source)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from keel.errors import KeelError, ProjectError
from keel.project import sophia
from keel.project.loader import CONTRACTS_DIR, PROJECT_FILE

HEADER = """\
# keel project: the platform's warehouse, tags, roles, sources and alerts.
# Secrets come from environment variables (${VAR}); they are never stored here
# and never printed. See docs/contracts.md and docs/concepts.md.
"""

CONTRACT_HEADER = """\
# Data contract for the {source} source, in dbt's sources format (version 2):
# an existing dbt project can use this file unchanged. Tag metadata lives in
# `meta`; keel's own settings in `meta.keel`. `keel gate` runs the data_tests
# on every new batch before anything leaves {schema}.
"""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def represent_list(self, data: Any) -> yaml.SequenceNode:
        # lists of plain values on one line ([not_null, unique]); everything else as blocks
        flow = all(isinstance(v, str | int | float | bool) for v in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _Dumper.represent_list)


def dump(data: Any) -> str:
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )


def connection_name(source: str) -> str:
    """The name Airbyte gives a new connection: "<source> → <destination>" (its UI's
    default, and the name in its notifications, e.g. "Gong → Snowflake")."""
    return f"{sophia.SOURCES[source]['title']} → Snowflake"


def project_dict(engine: str = "duckdb") -> dict[str, Any]:
    warehouse: dict[str, Any] = {"engine": engine}
    if engine == "duckdb":
        warehouse["path"] = ".keel/warehouse.duckdb"
    elif engine == "postgres":
        warehouse["dsn"] = "${KEEL_PG_DSN}"
    else:
        warehouse.update(
            account="${SNOWFLAKE_ACCOUNT}",
            user="${SNOWFLAKE_USER}",
            password="${SNOWFLAKE_PASSWORD}",
            role="${SNOWFLAKE_ROLE:-SOPHIA_AI_ADMIN_ROLE}",
            warehouse="${SNOWFLAKE_WAREHOUSE}",
            database="${SNOWFLAKE_DATABASE}",
            roles_as="USERADMIN",
            grants_as="SECURITYADMIN",
        )
    return {
        "version": 1,
        "name": "sophia-ai",
        "warehouse": warehouse,
        "metadata_tag": {
            "name": "SOPHIA_AI_METADATA",
            "schema": "SOPHIA_OPS",
            "max_length": 256,
            "keys": sophia.TAG_KEYS,
        },
        "schemas": sophia.PLATFORM_SCHEMAS,
        "roles": sophia.ROLES,
        "sources": {
            name: {
                "description": f"{spec['title']} (Airbyte connection {connection_name(name)}).",
                "schedule": spec["schedule"],
                "airbyte": {"connection_name": connection_name(name)},
                "connector": "demo",
            }
            for name, spec in sophia.SOURCES.items()
        },
        "alerts": {
            "slack": {"webhook_url": "${SLACK_WEBHOOK_URL:-}"},
            "pagerduty": {"routing_key": "${PAGERDUTY_ROUTING_KEY:-}"},
            "console": {"path": ".keel/alerts.log"},
        },
        "serve": {"public_url": "http://127.0.0.1:8787", "token": "${KEEL_WEBHOOK_TOKEN:-}"},
    }


SNOWFLAKE_NOTE = """\
  # docs/snowflake.md: roles are created as USERADMIN and grants made as SECURITYADMIN
  # (USE ROLE, then back to `role`); the bootstrap grants both to keel's user. Remove
  # these two lines when keel's role itself may create roles and manage grants.
"""


def _explained(text: str) -> str:
    """keel.yml's text with the note on roles_as / grants_as above them (Snowflake)."""
    return text.replace("  roles_as: USERADMIN\n", SNOWFLAKE_NOTE + "  roles_as: USERADMIN\n", 1)


def from_dbt_dict(directory: Path, dbt_dir: Path, engine: str) -> dict[str, Any]:
    """keel.yml for an existing dbt project: its sources, read where they live."""
    from keel.project.dbt_project import read_dbt_project, source_names

    rel = Path(os.path.relpath(dbt_dir.resolve(), directory.resolve())).as_posix()
    dbt, problems = read_dbt_project(directory.resolve(), rel, None)
    if dbt is None:
        raise ProjectError(problems)
    names = source_names(dbt)
    doc = project_dict(engine)
    doc["dbt_project"] = rel
    doc["sources"] = {n: {"schedule": "daily", "connector": "demo"} for n in names}
    keys = doc["metadata_tag"]["keys"]
    keys["data_source"] = sorted({*keys["data_source"], *names})
    return doc


def write_project(
    directory: Path, *, engine: str = "duckdb", force: bool = False, from_dbt: Path | None = None
) -> list[Path]:
    """Write the Sophia project into ``directory``; refuse to overwrite without ``force``.
    With ``from_dbt``, keel.yml points at that dbt project's sources files instead of
    writing contracts."""
    directory.mkdir(parents=True, exist_ok=True)
    if from_dbt is not None:
        doc = from_dbt_dict(directory, from_dbt, engine)
        targets: dict[Path, str] = {directory / PROJECT_FILE: HEADER + _explained(dump(doc))}
    else:
        text = _explained(dump(project_dict(engine)))
        targets = {directory / PROJECT_FILE: HEADER + text}
    for source in sophia.SOURCES if from_dbt is None else ():
        text = CONTRACT_HEADER.format(source=source, schema=f"{source.upper()}_DATA_RAW")
        targets[directory / CONTRACTS_DIR / f"{source}.yml"] = text + dump(sophia.contract(source))
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        names = ", ".join(str(p.relative_to(directory)) for p in existing)
        raise KeelError(f"{directory} already has {names}; use --force to overwrite")
    (directory / CONTRACTS_DIR).mkdir(exist_ok=True)
    for path, text in targets.items():
        path.write_text(text, encoding="utf-8")
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(".keel/\n", encoding="utf-8")
    return list(targets)
