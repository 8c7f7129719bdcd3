"""The local API of ``keel serve``: how other keel commands find the server and talk to it.

While ``keel serve`` owns the warehouse (a DuckDB file takes one writer), ``keel gate``,
``keel promote`` and ``keel batches`` run inside it instead of opening the warehouse.
The server writes ``.keel/serve.json`` in the project root (mode 0600) once it is up:
its pid, address and a random secret made for this start; it removes the file on a
clean shutdown. A command reads the file, checks the pid is alive, and sends the request
with ``Authorization: Bearer <secret>``; a stale file (dead pid, or nobody answering) is
removed and the command runs in process as usual.

Standard library only: this module is on the start-up path of those commands, which
import neither duckdb nor pydantic nor yaml nor rich when the server answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

STATE_FILE = Path(".keel") / "serve.json"
CONNECT_TIMEOUT = 2.0  # seconds; after connecting, a gate may take as long as it takes
_LOOPBACK = {"", "0.0.0.0", "::", "localhost"}


class ServerError(Exception):
    """The server answered with an error: ``status`` and its message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def new_secret() -> str:
    import secrets  # only keel serve makes one: not on a command's path

    return secrets.token_urlsafe(32)


def state_path(root: Path) -> Path:
    return root / STATE_FILE


def write_state(root: Path, host: str, port: int, secret: str) -> dict[str, Any]:
    """Write ``.keel/serve.json`` (0600, replaced atomically); returns what was written."""
    data: dict[str, Any] = {
        "pid": os.getpid(),
        "host": host,
        "port": port,
        "secret": secret,
        "started_at": time.time(),
    }
    path = state_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask, and if the file was left over
        os.write(fd, json.dumps(data).encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return data


def remove_state(root: Path, secret: str | None = None) -> None:
    """Remove ``.keel/serve.json``; with ``secret``, only the file this server wrote."""
    path = state_path(root)
    if secret is not None:
        found = read_state(root)
        if found is None or found.get("secret") != secret:
            return
    with contextlib.suppress(OSError):
        path.unlink()


def read_state(root: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(state_path(root).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if not isinstance(data.get("pid"), int) or not isinstance(data.get("port"), int):
        return None
    if not isinstance(data.get("secret"), str):
        return None
    return data


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:
        return False
    return True


def live_state(root: Path) -> dict[str, Any] | None:
    """The server's state when its file is there and its pid alive; a stale file goes."""
    data = read_state(root)
    if data is None:
        return None
    if not pid_alive(data["pid"]):
        _discard(root, data)
        return None
    return data


def _discard(root: Path, data: dict[str, Any]) -> None:
    if read_state(root) == data:  # not a file a new server wrote meanwhile
        with contextlib.suppress(OSError):
            state_path(root).unlink()


def request(
    root: Path, method: str, path: str, body: dict[str, Any] | None = None
) -> tuple[Any] | None:
    """Send one request to the project's server. None when no server runs (or it does not
    answer: the stale file is removed); ``(data,)`` with the decoded JSON answer on 2xx.
    Raises ServerError for an error answer."""
    state = live_state(root)
    if state is None:
        return None
    import http.client  # only when a server runs: the standalone command never loads it

    host = str(state.get("host") or "")
    host = "127.0.0.1" if host in _LOOPBACK else host
    conn = http.client.HTTPConnection(host, state["port"], timeout=CONNECT_TIMEOUT)
    try:
        try:
            conn.connect()
        except OSError:
            _discard(root, state)
            return None
        if conn.sock is not None:
            conn.sock.settimeout(None)
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {state['secret']}", "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            return None  # it went away mid-request: the command runs in process
        try:
            data = json.loads(raw or b"null")
        except ValueError:
            data = None
        if response.status >= 400:
            message = data.get("error") if isinstance(data, dict) else None
            raise ServerError(response.status, str(message or f"HTTP {response.status}"))
        return (data,)
    finally:
        conn.close()
