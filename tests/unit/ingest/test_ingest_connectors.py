"""Connector venvs, with fake installers (the real index is tested in integration)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from keel.errors import IngestError
from keel.ingest import connectors
from keel.ingest.connectors import MARKER, connector_dir, ensure_connector

# One fake that plays uv ("venv", "pip install") and python ("-m venv", "-m pip install").
FAKE_INSTALLER = textwrap.dedent(
    """\
    #!{python}
    import os, shutil, sys
    args = sys.argv[1:]
    with open(os.environ["FAKE_INSTALL_LOG"], "a") as log:
        log.write(" ".join(args) + "\\n")
    def make_exe(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy(__file__, path)
        os.chmod(path, 0o755)
    if args[0] == "venv" or args[:2] == ["-m", "venv"]:
        make_exe(os.path.join(args[-1], "bin", "python"))
        sys.exit(0)
    package = args[-1]
    if package == "airbyte-source-nope":
        if args[0] == "pip":
            sys.stderr.write(
                "  x No solution found when resolving dependencies:\\n"
                "  `-> Because airbyte-source-nope was not found in the package registry and "
                "you require airbyte-source-nope, we can conclude that your requirements are "
                "unsatisfiable.\\n")
        else:
            sys.stderr.write(
                "ERROR: Could not find a version that satisfies the requirement "
                "airbyte-source-nope (from versions: none)\\n"
                "ERROR: No matching distribution found for airbyte-source-nope\\n")
        sys.exit(1)
    if package == "airbyte-source-broken":
        sys.stderr.write("network is down\\n")
        sys.exit(2)
    venv = os.path.dirname(os.path.dirname(args[args.index("--python") + 1]
                           if "--python" in args else sys.argv[0]))
    make_exe(os.path.join(venv, "bin", package.split("==")[0].replace("airbyte-", "")))
    """
)


@pytest.fixture
def installer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``uv`` first on PATH; returns the log of its invocations."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "uv"
    fake.write_text(FAKE_INSTALLER.replace("{python}", sys.executable))
    fake.chmod(0o755)
    log = tmp_path / "install.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_INSTALL_LOG", str(log))
    return log


def test_installs_once_and_reuses_a_healthy_venv(installer: Path, tmp_path: Path) -> None:
    root = tmp_path / "project"
    argv = ensure_connector("source-demo", root)
    venv = root / ".keel" / "connectors" / "source-demo"
    assert argv == [str(venv / "bin" / "source-demo")]
    assert (venv / MARKER).is_file()
    calls = installer.read_text().splitlines()
    assert [c.split()[:2] for c in calls] == [["venv", "--quiet"], ["pip", "install"]]
    assert calls[1].endswith("airbyte-source-demo")
    assert ensure_connector("source-demo", root) == argv
    assert len(installer.read_text().splitlines()) == 2  # reused, not reinstalled


def test_a_half_built_venv_is_rebuilt(installer: Path, tmp_path: Path) -> None:
    venv = connector_dir("source-demo", tmp_path)
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "leftover").touch()
    ensure_connector("source-demo", tmp_path)
    assert not (venv / "bin" / "leftover").exists()
    assert (venv / MARKER).is_file()


def test_unknown_package_is_one_clear_error(installer: Path, tmp_path: Path) -> None:
    with pytest.raises(IngestError) as info:
        ensure_connector("source-nope", tmp_path)
    assert str(info.value) == (
        "connector package airbyte-source-nope was not found on the package index"
    )
    assert not connector_dir("source-nope", tmp_path).exists()


def test_other_install_failures_carry_the_installers_output(
    installer: Path, tmp_path: Path
) -> None:
    with pytest.raises(IngestError) as info:
        ensure_connector("source-broken", tmp_path)
    assert "installing airbyte-source-broken failed (uv pip install exited with code 2)" in str(
        info.value
    )
    assert "network is down" in str(info.value)


def test_pip_is_used_without_uv(
    installer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connectors.shutil, "which", lambda name: None)
    fake_python = str(Path(os.environ["PATH"].split(os.pathsep)[0]) / "uv")
    argv = ensure_connector("source-demo", tmp_path, python=fake_python)
    assert Path(argv[0]).name == "source-demo"
    calls = installer.read_text().splitlines()
    assert calls[0].startswith("-m venv")
    assert calls[1].startswith("-m pip install")
    with pytest.raises(IngestError, match="airbyte-source-nope was not found on the package index"):
        ensure_connector("source-nope", tmp_path, python=fake_python)


def test_names_must_be_source_connectors(tmp_path: Path) -> None:
    for bad in ("faker", "destination-duckdb", "source-../x", "source-"):
        with pytest.raises(IngestError, match="is not a source connector name"):
            ensure_connector(bad, tmp_path)
