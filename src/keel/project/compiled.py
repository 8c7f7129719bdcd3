"""The compiled project: a loaded :class:`Project` kept in ``.keel/`` while its inputs hold.

Loading a project validates every file with pydantic and renders contracts'
jinja; a command that only reads the project (``keel gate`` on a micro-batch)
would spend most of its start-up there. :func:`load` returns the compiled copy
when it is exactly what a full load would give now, and otherwise loads the
project and writes a new copy. Nothing in the copy is trusted on its own:

- it is JSON, decoded into an allow-list of keel's own value classes (never
  pickle: a ``.keel/`` folder that came with a cloned repository runs no code);
- it carries an HMAC, keyed by a random key kept outside the project (the user's
  cache folder), over the copy itself and everything a load reads: the bytes of
  ``keel.yml`` and of every ``*.yml`` / ``*.yaml`` in the folders the load read
  (their listing too, so a new or deleted file counts, and an edit within the
  clock's resolution), the environment variables the load looked up, keel's loader
  and classifier code and the libraries that parse and validate (size and mtime
  of each file). A copy made elsewhere, or for other inputs, is ignored;
- text that had an environment variable substituted (a secret, a connector's
  ``config``) is stored as it was written (``${VAR}``) and substituted again when
  decoded: no value from the environment is written to the project's folder;
- a copy is written only when no input changed while the load ran.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.project import loaded, models
from keel.project.envsub import EnvText, substitute_text
from keel.project.loaded import PROJECT_FILE, Project

if TYPE_CHECKING:
    from keel.project.load_project import EntityTypeFor

FILE = ".keel/compiled-project.json"
KEY_FILE = "keel/compiled-project.key"  # under the user's cache folder
FORMAT = 2
# an input changed less than this before the load began may be mid-edit: no copy
SETTLE_NS = 1_000_000_000
_PACKAGE = Path(__file__).resolve().parent.parent  # keel/
CODE_DIRS = (_PACKAGE / "project", _PACKAGE / "governance" / "classify")
LIBRARIES = ("pydantic", "pydantic_core", "yaml", "jinja2", "sqlglot")
# every class a compiled project may hold, by name (the decoder builds nothing else)
CLASSES: dict[str, type] = {
    cls.__name__: cls
    for module in (models, loaded)
    for cls in vars(module).values()
    if isinstance(cls, type) and is_dataclass(cls) and cls.__module__ == module.__name__
}


def load(root: Path, classifier: Callable[[], EntityTypeFor]) -> Project:
    """The project at ``root``, from its compiled copy when that is current.

    ``classifier()`` gives the table classifier for a full load (imported only
    then). Problems in the project are raised as by :func:`load_project`.
    """
    root = root.resolve()
    path = root / FILE
    key = _key()
    if key is not None:
        project = _read(path, root, key)
        if project is not None:
            return project
    from keel.project.loader import load_project

    reads = _EnvReads(os.environ)
    started = time.time_ns()
    project = load_project(root, reads, classifier())
    if key is not None:
        _write(path, root, key, project, sorted(reads.names), started)
    return project


def _read(path: Path, root: Path, key: bytes) -> Project | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        body = doc["project"]
        mac = _mac(key, root, doc["inputs"], doc["env"], body)
        if doc["format"] != FORMAT or not hmac.compare_digest(doc["mac"], mac):
            return None
        project = json.loads(body, object_hook=_decode_object)
    except Exception:
        return None
    return project if isinstance(project, Project) else None


def _write(
    path: Path, root: Path, key: bytes, project: Project, env: list[str], started: int
) -> None:
    inputs = [[where, recursive] for where, recursive in project.inputs]
    if any(changed >= started - SETTLE_NS for changed in _mtimes(inputs)):
        return  # an input changed during the load (or just before): the next load writes
    try:
        body = json.dumps(_encode(project), separators=(",", ":"))
    except (TypeError, ValueError):
        return  # a value JSON cannot hold (a YAML date in a test's arguments): no copy
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        mac = _mac(key, root, inputs, env, body)
        doc = {"format": FORMAT, "mac": mac, "inputs": inputs, "env": env, "project": body}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(doc, out, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:  # a read-only project: every command loads it in full
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _key() -> bytes | None:
    """This user's key for compiled projects (made once); None when there is no place
    for it (then every command loads its project in full)."""
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        path = base / KEY_FILE
        with contextlib.suppress(FileNotFoundError):
            key = path.read_bytes()
            return key if len(key) == 32 else None
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            key = path.read_bytes()
            return key if len(key) == 32 else None
        key = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        return key
    except (OSError, RuntimeError):  # no home folder, or not writable
        return None


def _mac(key: bytes, root: Path, inputs: list[Any], env: list[str], body: str) -> str:
    h = hmac.new(key, digestmod=hashlib.sha256)

    def add(*parts: object) -> None:
        h.update(repr(parts).encode())
        h.update(b"\n")

    from keel import __version__

    add("keel", FORMAT, __version__, str(root))
    for module in _code_files():
        st = module.stat()
        add("code", str(module), st.st_size, st.st_mtime_ns)
    add("keel.yml", hashlib.sha256((root / PROJECT_FILE).read_bytes()).hexdigest())
    for where, recursive in inputs:
        for file in _files(Path(where), recursive):
            try:
                add("file", str(file), hashlib.sha256(file.read_bytes()).hexdigest())
            except OSError:
                add("absent", str(file))
    for name in env:
        add("env", name, os.environ.get(name))
    h.update(body.encode())
    return h.hexdigest()


def _code_files() -> Iterator[Path]:
    """keel's loader and classifier modules, and the libraries a full load runs."""
    for folder in CODE_DIRS:
        yield from sorted(folder.glob("*.py"))
    yield _PACKAGE / "__init__.py"
    for name in LIBRARIES:
        spec = find_spec(name)
        if spec is not None and spec.origin:
            yield Path(spec.origin)


def _files(where: Path, recursive: bool | None) -> list[Path]:
    if recursive is None:
        return [where]
    if not where.is_dir():
        return []
    glob = where.rglob if recursive else where.glob
    return sorted([*glob("*.yml"), *glob("*.yaml")])


def _mtimes(inputs: list[Any]) -> Iterator[int]:
    """When each input file, and each folder holding one, last changed."""
    for where, recursive in inputs:
        folder = Path(where)
        files = _files(folder, recursive)
        for item in {folder, *files, *(f.parent for f in files)}:
            with contextlib.suppress(OSError):
                yield item.stat().st_mtime_ns


def _encode(value: Any) -> Any:
    if isinstance(value, EnvText):
        return {"__env": value.template}  # substituted again when decoded
    if isinstance(value, str):
        return str(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"__tuple": [_encode(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value) or any(k.startswith("__") for k in value):
            raise TypeError("a mapping JSON cannot hold")
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, Path):
        return {"__path": str(value)}
    if isinstance(value, models.Secret):
        if value.template is not None:
            return {"__secret_template": value.template}
        return {"__secret": value.get_secret_value()}  # written as is in keel.yml
    cls = type(value)
    if is_dataclass(value) and CLASSES.get(cls.__name__) is cls:
        out = {f.name: _encode(getattr(value, f.name)) for f in fields(value) if f.init}
        out["__class"] = cls.__name__
        return out
    raise TypeError(f"{cls.__name__} is not a value of a compiled project")


def _decode_object(obj: dict[str, Any]) -> Any:
    if "__class" in obj:
        cls = CLASSES[obj.pop("__class")]
        return cls(**obj)
    if "__tuple" in obj:
        return tuple(obj["__tuple"])
    if "__path" in obj:
        return Path(obj["__path"])
    if "__env" in obj:
        return substitute_text(obj["__env"], os.environ)
    if "__secret_template" in obj:
        return models.Secret.from_template(obj["__secret_template"])
    if "__secret" in obj:
        return models.Secret(obj["__secret"])
    return obj


class _EnvReads(dict[str, str]):
    """The environment, noting every variable the loader looks up."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.names: set[str] = set()

    def __contains__(self, name: object) -> bool:
        self.names.add(str(name))
        return super().__contains__(name)

    def __getitem__(self, name: str) -> str:
        self.names.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default: Any = None) -> Any:
        self.names.add(name)
        return super().get(name, default)
