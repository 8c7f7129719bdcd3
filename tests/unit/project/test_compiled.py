"""The compiled project (.keel/compiled-project.json): the same Project as a full load,
used only while every input is unchanged, keyed to this user, never holding a value
taken from the environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from keel.errors import ProjectError
from keel.governance.classify.tables import entity_type_for_table
from keel.project import compiled, loader
from keel.project.init import write_project
from keel.project.loader import load_project

SECRET = "hooks.slack.test/T000/B000/not-a-real-secret"
API_KEY = "gong-key-not-a-real-one"
FIXTURES = Path(__file__).parents[2] / "fixtures" / "dbt_sources"


def classifier():  # type: ignore[no-untyped-def]
    return entity_type_for_table


def settle(*folders: Path) -> None:
    """Date every file and folder under ``folders`` a minute back: a copy is written only
    for inputs that did not change just before or during the load."""
    past = time.time_ns() - 60_000_000_000
    for folder in folders:
        for item in [folder, *folder.rglob("*")]:
            os.utime(item, ns=(past, past), follow_symlinks=False)


def full(root: Path) -> object:
    return load_project(root, None, entity_type_for_table)


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "p"
    write_project(root)
    assert "webhook_url: ${SLACK_WEBHOOK_URL:-}" in (root / "keel.yml").read_text()
    doc = yaml.safe_load((root / "keel.yml").read_text())
    doc["sources"]["gong"]["config"] = {"api_key": "${GONG_API_KEY}", "page": 50}
    (root / "keel.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    monkeypatch.setenv("SLACK_WEBHOOK_URL", SECRET)
    monkeypatch.setenv("GONG_API_KEY", API_KEY)
    settle(root)
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
    assert second == first == full(root)
    assert second.streams and all(s.columns for s in second.streams.values())
    assert type(second.streams["hubspot.contacts"].columns) is tuple
    assert second.sources["gong"].config == {"api_key": API_KEY, "page": 50}


def test_no_value_from_the_environment_is_written(
    root: Path, full_loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled.load(root, classifier)
    text = (root / compiled.FILE).read_text()
    assert SECRET not in text and API_KEY not in text
    assert "${SLACK_WEBHOOK_URL:-}" in text and "${GONG_API_KEY}" in text
    assert oct((root / compiled.FILE).stat().st_mode & 0o777) == "0o600"
    again = compiled.load(root, classifier)
    hook = again.spec.alerts.slack.webhook_url
    assert hook is not None and hook.get_secret_value() == SECRET
    assert SECRET not in repr(again.spec)
    assert len(full_loads) == 1
    # a new value: a full load (the copy's key covers every variable the load read)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "rotated")
    assert (
        compiled.load(root, classifier).spec.alerts.slack.webhook_url
        == full(root).spec.alerts.slack.webhook_url
    )
    assert len(full_loads) == 2


def test_a_variable_read_by_a_secret_and_by_config_is_seen(
    root: Path, full_loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = yaml.safe_load((root / "keel.yml").read_text())
    doc["sources"]["gong"]["config"]["hook"] = "${SLACK_WEBHOOK_URL}"
    (root / "keel.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    settle(root)
    compiled.load(root, classifier)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "two")
    project = compiled.load(root, classifier)
    assert project.sources["gong"].config["hook"] == "two"
    assert project == full(root)


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


def test_new_deleted_and_just_written_files(root: Path, full_loads: list[Path]) -> None:
    compiled.load(root, classifier)
    extra = root / "contracts" / "extra.yaml"
    extra.write_text("version: 2\nsources: []\n")
    compiled.load(root, classifier)  # a new file: full load, and no copy (just written)
    compiled.load(root, classifier)
    assert len(full_loads) == 3
    settle(root)
    compiled.load(root, classifier)  # settled: this one writes the copy
    compiled.load(root, classifier)
    assert len(full_loads) == 4
    (root / "contracts" / "gong.yml").unlink()
    project = compiled.load(root, classifier)
    assert len(full_loads) == 5
    assert not any(s.startswith("gong.") for s in project.streams)


def test_a_value_from_a_variable_is_in_the_key(
    root: Path, full_loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (root / "keel.yml").read_text()
    (root / "keel.yml").write_text(text.replace("name: ", "name: ${KEEL_TEST_NAME:-x}", 1))
    settle(root)
    monkeypatch.setenv("KEEL_TEST_NAME", "a")
    assert compiled.load(root, classifier).spec.name.startswith("a")
    assert compiled.load(root, classifier).spec.name.startswith("a")
    assert len(full_loads) == 1
    monkeypatch.setenv("KEEL_TEST_NAME", "b")
    assert compiled.load(root, classifier).spec.name.startswith("b")
    assert len(full_loads) == 2


def test_a_retargeted_dbt_project_link_is_seen(
    tmp_path: Path, full_loads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNOWFLAKE_LOAD_DATABASE", "RAW")
    for name in ("dbt_a", "dbt_b"):
        shutil.copytree(FIXTURES / "analytics_dbt", tmp_path / name)
    sources = tmp_path / "dbt_b" / "models" / "staging" / "zuora" / "sources.yml"
    sources.write_text(sources.read_text().replace("identifier: invoiceitem", "identifier: ii"))
    (tmp_path / "dbt").symlink_to(tmp_path / "dbt_a")
    root = tmp_path / "p"
    write_project(root)
    for f in (root / "contracts").glob("*.yml"):
        f.unlink()
    doc = yaml.safe_load((root / "keel.yml").read_text())
    doc["sources"]["zuora"] = {"schedule": "daily"}
    doc["metadata_tag"]["keys"]["data_source"].append("zuora")
    doc["dbt_project"] = "../dbt"
    (root / "keel.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    settle(tmp_path)
    first = compiled.load(root, classifier)
    assert first.streams["zuora.invoice_item"].table == "INVOICEITEM"
    assert compiled.load(root, classifier) == first and len(full_loads) == 1
    (tmp_path / "dbt").unlink()
    (tmp_path / "dbt").symlink_to(tmp_path / "dbt_b")
    assert compiled.load(root, classifier).streams["zuora.invoice_item"].table == "II"
    assert len(full_loads) == 2


@pytest.mark.parametrize(
    "text", ["null", "[]", '{"format": 2, "env": []}', "[" * 100_000, "{not json"]
)
def test_a_damaged_copy_means_a_full_load(root: Path, full_loads: list[Path], text: str) -> None:
    compiled.load(root, classifier)
    (root / compiled.FILE).write_text(text)
    assert compiled.load(root, classifier).spec.name
    assert len(full_loads) == 2


def test_a_copy_made_elsewhere_or_edited_is_ignored(
    root: Path, full_loads: list[Path], cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled.load(root, classifier)
    path = root / compiled.FILE
    doc = json.loads(path.read_text())
    # an edited project (a data test dropped) under the copy's own key material
    body = json.loads(doc["project"])
    body["spec"]["name"] = "forged"
    forged = {**doc, "project": json.dumps(body), "inputs": [], "env": []}
    path.write_text(json.dumps(forged))
    assert compiled.load(root, classifier).spec.name == "sophia-ai"
    assert len(full_loads) == 2
    # a copy made for the same files by another user (another key) is not used
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home.parent / "other-cache"))
    compiled.load(root, classifier)
    assert len(full_loads) == 3
    # ... and not a class outside keel's values
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    compiled.load(root, classifier)
    doc = json.loads(path.read_text())
    doc["project"] = doc["project"].replace('"__class":"Project"', '"__class":"Popen"')
    path.write_text(json.dumps(doc))
    assert compiled.load(root, classifier).spec.name == "sophia-ai"


def test_no_place_for_a_copy_or_a_key_still_loads(
    root: Path, full_loads: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (root / ".keel").write_text("a file where the folder would be")  # (root runs tests here)
    assert compiled.load(root, classifier).spec.name
    assert compiled.load(root, classifier).spec.name
    assert len(full_loads) == 2
    assert not list(root.glob(".keel*.tmp"))
    (root / ".keel").unlink()
    (tmp_path / "not-a-folder").write_text("no folder for the key")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-folder"))
    assert compiled.load(root, classifier).spec.name
    assert compiled.load(root, classifier).spec.name
    assert len(full_loads) == 4 and not (root / compiled.FILE).exists()


def test_a_command_on_a_compiled_project_imports_no_validator(root: Path) -> None:
    """`keel gate` (no server): the second run reads the copy, without pydantic, yaml,
    jinja2 or the duckdb package's Python layer (keel.adapters.duckdb_lib)."""
    env = {**os.environ, "NO_COLOR": "1"}
    cmd = [sys.executable, "-m", "keel", "apply", "--yes", "--project", str(root)]
    assert subprocess.run(cmd, env=env, capture_output=True, check=False).returncode == 0
    assert (root / compiled.FILE).exists()
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
