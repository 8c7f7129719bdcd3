"""Source connectors from the package index, each in its own virtual environment.

``ensure_connector("source-faker", root)`` installs ``airbyte-source-faker``
into ``root/.keel/connectors/source-faker`` (with ``uv`` when it is on PATH,
else ``python -m venv`` and pip) and returns the argv of its executable.

Invariants:

- An install is trusted only once it finished: a marker file naming the
  package is written last, so a venv left half-built by a crash or a failed
  install is removed and built again, and a healthy one is reused as is.
- Two processes installing the same connector wait for each other (a lock
  file next to the venv) instead of building it twice.
- An unknown package is one clear :class:`IngestError`, read from the
  installer's own output ("... was not found on the package index"); any
  other failure carries the tail of the installer's output, never a traceback.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from keel.errors import IngestError

MARKER = ".keel-installed"
_NAME = re.compile(r"^source-[a-z0-9][a-z0-9-]*$")
_NOT_FOUND = (
    re.compile(r"was not found in the package registry"),
    re.compile(r"No matching distribution found for"),
    re.compile(r"Could not find a version that satisfies the requirement"),
)
OUTPUT_TAIL_LINES = 15


def connector_dir(name: str, root: Path) -> Path:
    """Where ``name``'s virtual environment lives under a project ``root``."""
    return Path(root) / ".keel" / "connectors" / name


def ensure_connector(
    name: str,
    root: Path,
    *,
    version: str | None = None,
    python: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[str]:
    """The argv of connector ``name`` (``source-xxx``), installing it once if needed."""
    if not _NAME.match(name):
        raise IngestError(
            f"connector name {name!r} is not a source connector name like 'source-faker'"
        )
    venv = connector_dir(name, root)
    exe = venv / "bin" / name
    package = f"airbyte-{name}" + (f"=={version}" if version else "")
    venv.parent.mkdir(parents=True, exist_ok=True)
    with _locked(venv.parent / f".{name}.lock"):
        if _healthy(venv, exe, package):
            return [str(exe)]
        if venv.exists():
            shutil.rmtree(venv)
        if progress is not None:
            progress(f"installing {package} into {venv}")
        try:
            _install(venv, package, python or sys.executable)
        except IngestError:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        if not exe.exists():
            shutil.rmtree(venv, ignore_errors=True)
            raise IngestError(f"{package} installed, but it provides no {name} executable")
        (venv / MARKER).write_bytes(orjson.dumps({"package": package}))
    return [str(exe)]


def _healthy(venv: Path, exe: Path, package: str) -> bool:
    marker = venv / MARKER
    if not (marker.is_file() and exe.exists() and (venv / "bin" / "python").exists()):
        return False
    try:
        return bool(orjson.loads(marker.read_bytes()).get("package") == package)
    except (orjson.JSONDecodeError, AttributeError):
        return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _install(venv: Path, package: str, python: str) -> None:
    venv_python = str(venv / "bin" / "python")
    uv = shutil.which("uv")
    if uv:
        _run([uv, "venv", "--quiet", "--python", python, str(venv)], package)
        _run([uv, "pip", "install", "--quiet", "--python", venv_python, package], package)
    else:
        _run([python, "-m", "venv", str(venv)], package)
        pip = [venv_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run([*pip, package], package)


INSTALL_TIMEOUT = 1800.0  # seconds for one venv or pip step


def _run(argv: list[str], package: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, env=env, check=False, timeout=INSTALL_TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        raise IngestError(
            f"installing {package} did not finish within {INSTALL_TIMEOUT:g}s; it was stopped"
        ) from exc
    except OSError as exc:
        raise IngestError(f"cannot run {Path(argv[0]).name} to install {package}: {exc}") from exc
    if done.returncode == 0:
        return
    output = f"{done.stdout}\n{done.stderr}"
    if any(p.search(output) for p in _NOT_FOUND):
        bare = package.split("==", 1)[0]
        raise IngestError(f"connector package {bare} was not found on the package index")
    lines = [line for line in output.splitlines() if line.strip()][-OUTPUT_TAIL_LINES:]
    tool = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(argv[:3]))
    raise IngestError(
        f"installing {package} failed ({tool} exited with code {done.returncode}):\n"
        + "\n".join(lines)
    )
