"""The compiled project (.keel/compiled-project.json): the same Project as a full load,
used only while every input is unchanged, and never holding a secret from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keel.errors import ProjectError
from keel.governance.classify.tables import entity_type_for_table
from keel.project import compiled, loader
from keel.project.init import write_project
from keel.project.loader import load_project

SECRET = "hooks.slack.test/T000/B000/not-a-real-secret"


def classifier():  # type: ignore[no-untyped-def]
    return entity_type_for_table


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "p"
    write_project(root)
    assert "webhook_url: ${SLACK_WEBHOOK_URL:-}" in (root / "keel.yml").read_text()
    monkeypatch.setenv("SLACK_WEBHOOK_URL", SECRET)
    return root


@pytest.fixture
def full_loads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every full load (YAML + pydantic) the compiled path falls back to."""
    calls: list[Path] = []

    def counting(root: Path, *args: object, **kwargs: object) -> object:
        calls.append(root)
        return load_project(root, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(loader, "load_project", counting)
    return calls


def test_a_compiled_project_equals_the_full_load(root: Path, full_loads: list[Path]) -> None:
    first = compiled.load(root, classifier)
    second = compiled.load(root, classifier)
    assert len(full_loads) == 1  # the second came from .keel/compiled-project.json
    assert second == first == load_project(root, None, entity_type_for_table)
    assert second.streams and all(s.columns for s in second.streams.values())
    assert type(second.streams["hubspot.contacts"].columns) is tuple


def test_the_copy_never_holds_a_secret_from_the_environment(
    root: Path, full_loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled.load(root, classifier)
    text = (root / compiled.FILE).read_text()
    assert SECRET not in text and "${SLACK_WEBHOOK_URL:-}" in text
    assert oct((root / compiled.FILE).stat().st_mode & 0o777) == "0o600"
    # the variable is read again at every load: a new value needs no full load
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "rotated")
    again = compiled.load(root, classifier)
    assert len(full_loads) == 1
    hook = again.spec.alerts.slack.webhook_url
    assert hook is not None and hook.get_secret_value() == "rotated"
    assert "rotated" not in repr(again.spec)
    # unset, keel.yml's default applies: whether it is set is part of the digest
    monkeypatch.delenv("SLACK_WEBHOOK_URL")
    gone = compiled.load(root, classifier)
    assert len(full_loads) == 2
    hook = gone.spec.alerts.slack.webhook_url
    assert hook is not None and hook.get_secret_value() == ""


def test_an_edit_within_the_clock_resolution_is_seen(root: Path, full_loads: list[Path]) -> None:
    compiled.load(root, classifier)
    contract = root / "contracts" / "hubspot.yml"
    st = contract.stat()
    text = contract.read_text()
    edited = text.replace("entity_type: contact", "entity_type: xontact", 1)
    assert edited != text and len(edited) == len(text)
    contract.write_text(edited)
    os.utime(contract, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime
    with pytest.raises(ProjectError, match="xontact"):
        compiled.load(root, classifier)
    assert len(full_loads) == 2


def test_a_new_contract_file_and_a_variable_count(
    root: Path, full_loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled.load(root, classifier)
    extra = root / "contracts" / "extra.yaml"
    extra.write_text("version: 2\nsources: []\n")
    compiled.load(root, classifier)
    assert len(full_loads) == 2
    text = (root / "keel.yml").read_text()
    (root / "keel.yml").write_text(text.replace("name: ", "name: ${KEEL_TEST_NAME:-x}", 1))
    monkeypatch.setenv("KEEL_TEST_NAME", "a")
    assert compiled.load(root, classifier).spec.name.startswith("a")
    assert compiled.load(root, classifier).spec.name.startswith("a")
    assert len(full_loads) == 3
    monkeypatch.setenv("KEEL_TEST_NAME", "b")  # a value outside secrets is in the digest
    assert compiled.load(root, classifier).spec.name.startswith("b")
    assert len(full_loads) == 4


def test_a_forged_copy_builds_nothing_but_keel_values(root: Path, full_loads: list[Path]) -> None:
    compiled.load(root, classifier)
    path = root / compiled.FILE
    doc = json.loads(path.read_text())
    doc["project"]["spec"]["__class"] = "Popen"  # not one of keel's value classes
    path.write_text(json.dumps(doc))
    project = compiled.load(root, classifier)
    assert len(full_loads) == 2 and project.spec.name
    path.write_text("{not json")
    compiled.load(root, classifier)
    assert len(full_loads) == 3


def test_a_project_where_no_copy_can_be_written_still_loads(
    root: Path, full_loads: list[Path]
) -> None:
    (root / ".keel").write_text("a file where the folder would be")  # (root runs tests here)
    assert compiled.load(root, classifier).spec.name
    assert compiled.load(root, classifier).spec.name
    assert len(full_loads) == 2
    assert not list(root.glob(".keel*.tmp"))


def test_a_command_on_a_compiled_project_imports_no_validator(root: Path) -> None:
    """`keel batches` (no server): the second run reads the copy, without pydantic, yaml,
    jinja2 or the duckdb package's Python layer (keel.adapters.duckdb_lib)."""
    env = {**os.environ, "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "keel", "apply", "--yes", "--project", str(root)]
    assert subprocess.run(cmd, env=env, capture_output=True, check=False).returncode == 0
    cmd = [sys.executable, "-X", "importtime", "-m", "keel", "gate", "hubspot", "--json"]
    done = subprocess.run(
        [*cmd, "--project", str(root)], env=env, capture_output=True, text=True, check=False
    )
    assert json.loads(done.stdout)["source"] == "hubspot", done.stderr
    imported = {
        line.split("|")[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "keel.project.compiled" in imported and "_duckdb" in imported
    heavy = {"pydantic", "yaml", "jinja2", "duckdb", "rich", "keel.project.loader"}
    assert not imported & heavy, imported & heavy
