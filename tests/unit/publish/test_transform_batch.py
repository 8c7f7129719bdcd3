"""The transformation after a publish knows its batch: ``dbt build`` gets the batch's id and
extraction bounds as ``--vars`` (dbt's ``--vars`` takes a YAML/JSON dictionary) and every
transformation gets them as environment variables."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support.gatekit import Kit, companies


class Done:
    returncode = 0
    stdout = "ok\n"
    stderr = ""


def _runner(calls: list[tuple[list[str], dict[str, str]]]) -> Callable[..., Done]:
    def run(argv: list[str], **kw: Any) -> Done:
        calls.append((argv, kw["env"]))
        return Done()

    return run


def test_dbt_build_gets_the_batch_as_vars_and_environment(kit: Callable[..., Kit]) -> None:
    k = kit([companies()], transform={"dbt": {"project_dir": "dbt"}})
    calls: list[tuple[list[str], dict[str, str]]] = []
    first = k.land("companies", [{"id": "c1", "name": "a"}, {"id": "c2", "name": "b"}])
    report = k.promote(runner=_runner(calls))
    batch = report.stream("companies").batch
    assert batch is not None and report.transform is not None
    ((argv, env),) = calls
    assert argv[1:3] == ["build", "--select"] and argv[-2] == "--vars"
    dbt_vars = json.loads(argv[-1])
    assert dbt_vars["keel_batch_id"] == batch.id == env["KEEL_BATCH_ID"]
    assert dbt_vars["keel_batch_ids"] == [batch.id]
    assert dbt_vars["keel_batch_from"] == first.isoformat() == env["KEEL_BATCH_FROM"]
    assert dbt_vars["keel_batch_to"] == first.isoformat() == env["KEEL_BATCH_TO"]
    assert dbt_vars["keel_batches"] == {
        "companies": {"id": batch.id, "from": first.isoformat(), "to": first.isoformat(), "rows": 2}
    }
    assert json.loads(env["KEEL_BATCHES"]) == dbt_vars["keel_batches"]
    # the exact rows of the batch: the raw ids judged under its id
    judged = k.rows(
        f'SELECT count(*) FROM "SOPHIA_OPS"."KEEL_JUDGED" WHERE "BATCH_ID" = \'{batch.id}\''
    )
    assert judged == [(2,)]


def test_a_command_gets_the_environment_only(kit: Callable[..., Kit]) -> None:
    k = kit([companies()], transform={"command": ["make", "models"]})
    calls: list[tuple[list[str], dict[str, str]]] = []
    k.land("companies", [{"id": "c1", "name": "a"}])
    k.promote(runner=_runner(calls))
    ((argv, env),) = calls
    assert argv == ["make", "models"]
    assert env["KEEL_BATCH_ID"] and env["KEEL_BATCH_FROM"] and env["KEEL_BATCH_TO"]
