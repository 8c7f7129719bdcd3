"""The compiled project: a loaded :class:`Project` kept in ``.keel/`` while its inputs hold.

Loading a project validates every file with pydantic and renders contracts'
jinja; a command that only reads the project (``keel gate`` on a micro-batch)
would spend most of its start-up there. :func:`load` returns the compiled copy
when nothing it was built from has changed, and otherwise loads the project and
writes a new copy. Nothing but the files is trusted:

- the copy is JSON, decoded into an allow-list of keel's own value classes (never
  pickle: a ``.keel/`` folder that came with a cloned repository runs no code);
- it is used only when one digest matches, over the content of ``keel.yml``, of
  every ``*.yml`` / ``*.yaml`` in the folders the load read (the listing and each
  file's bytes, so a file edited within the clock's resolution still counts), the
  environment variables the load read, and keel's own loader code (version, and
  the size and mtime of each module file);
- a secret that keel.yml took from the environment (``${SLACK_WEBHOOK_URL}``) is
  stored as that text and read from the environment again on every load; the
  digest keys such a variable on whether it is set, never on its value.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.project import loaded, models
from keel.project.envsub import VAR
from keel.project.loaded import Project

if TYPE_CHECKING:
    from keel.project.load_project import EntityTypeFor

FILE = ".keel/compiled-project.json"
FORMAT = 1
CODE_PREFIXES = ("keel.project.", "keel.governance.classify.")
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
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), object_hook=_decode_object)
        if (
            doc.get("format") == FORMAT
            and doc.get("digest") == _digest(root, doc["inputs"], doc["env"], doc["code"])
            and isinstance(doc.get("project"), Project)
        ):
            project: Project = doc["project"]
            return project
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no copy, or not a current one: load the project
    from keel.project.loader import load_project

    reads = _EnvReads(os.environ)
    project = load_project(root, reads, classifier())
    _write(path, root, project, reads)
    return project


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


def _write(path: Path, root: Path, project: Project, reads: _EnvReads) -> None:
    secret_vars = {m.group(1) for text in _templates(project.spec) for m in VAR.finditer(text)}
    env = {name: name in secret_vars for name in sorted(reads.names)}  # True: presence only
    code = sorted(
        str(module.__file__)
        for name, module in list(sys.modules.items())
        if name.startswith(CODE_PREFIXES) and getattr(module, "__file__", None)
    )
    inputs = [list(item) for item in project.inputs]
    try:
        body = _encode(project)
    except TypeError:
        return  # a value JSON cannot hold (a YAML date in a test's arguments): no copy
    doc = {
        "format": FORMAT,
        "digest": _digest(root, inputs, env, code),
        "inputs": inputs,
        "env": env,
        "code": code,
        "project": body,
    }
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(doc, out, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:  # a read-only project: every command loads it in full
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _digest(root: Path, inputs: list[Any], env: dict[str, bool], code: list[str]) -> str:
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        h.update(repr(parts).encode())

    from keel import __version__

    add("keel", __version__, str(root))
    for module in code:
        st = os.stat(module)
        add("code", module, st.st_size, st.st_mtime_ns)
    for where, recursive in inputs:
        for file in _files(Path(where), recursive):
            try:
                add("file", str(file), hashlib.sha256(file.read_bytes()).hexdigest())
            except OSError:
                add("absent", str(file))
    for name, presence_only in env.items():
        value = os.environ.get(name)
        add("env", name, value is not None if presence_only else value)
    return h.hexdigest()


def _files(where: Path, recursive: bool | None) -> list[Path]:
    if recursive is None:
        return [where]
    if not where.is_dir():
        return []
    glob = where.rglob if recursive else where.glob
    return sorted([*glob("*.yml"), *glob("*.yaml")])


def _templates(value: Any) -> Iterator[str]:
    """The keel.yml text of every secret that named an environment variable."""
    if isinstance(value, models.Secret):
        if value.template is not None:
            yield value.template
    elif is_dataclass(value):
        for f in fields(value):
            yield from _templates(getattr(value, f.name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _templates(item)


def _encode(value: Any) -> Any:
    if isinstance(value, str):
        return str(value)  # EnvText included: the value as substituted
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
    if "__secret_template" in obj:
        return models.Secret.from_template(obj["__secret_template"])
    if "__secret" in obj:
        return models.Secret(obj["__secret"])
    return obj
