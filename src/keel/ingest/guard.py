"""Bounds on a connector run: time limits per verb, and secrets kept out of its words.

A connector is third-party code fed with secrets; keel does not trust what it does
or says.

* :class:`Timeouts`: a limit per Airbyte verb (``spec``, ``check``, ``discover``,
  ``read``) and, for ``read``, a no-progress limit: no line on stdout (record, state,
  log) for ``read_idle`` seconds. Configurable per source in keel.yml
  (``sources.<name>.timeouts``).
* :class:`Watchdog`: a thread that kills the connector's whole process group (it is
  started in a session of its own) when a limit passes, so children it spawned die
  with it and the stdout loop ends.
* :class:`Redactor`: every secret of the connector's config -- any string under a key
  that names one (password, token, api_key, credentials, ...) and any token-like string
  (12+ characters without spaces, letters and digits) -- is replaced by ``***`` in
  what the connector says (stderr, LOG and TRACE messages, stray stdout lines) before
  keel prints or stores it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

MIN_SECRET = 4
# Airbyte specs mark secrets with ``airbyte_secret``; keel sees only the config, so a
# value is a secret when any key above it names one, or when it looks like a token.
_SECRET_KEY = re.compile(
    r"pass|pwd|secret|token|key|credential|auth|private|dsn|cookie|session|signature|cert",
    re.IGNORECASE,
)
_TOKEN_LIKE = re.compile(r"(?=[^\s]*[A-Za-z])(?=[^\s]*[0-9])[^\s]{12,}")
MASK = "***"


@dataclass(frozen=True)
class Timeouts:
    """Seconds; None means no limit."""

    spec: float | None = 300
    check: float | None = 300
    discover: float | None = 900
    read: float | None = 24 * 3600
    read_idle: float | None = 900

    @classmethod
    def of(cls, values: Mapping[str, Any] | None) -> Timeouts:
        if not values:
            return cls()
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def total(self, verb: str) -> float | None:
        value = getattr(self, verb, None)
        return float(value) if isinstance(value, int | float) else None


class Redactor:
    """Replaces the config's string values in text."""

    def __init__(self, config: Any):
        secrets = sorted(set(_strings(config)), key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(s) for s in secrets)) if secrets else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern is not None else text


def _strings(value: Any, secret: bool = False) -> Iterator[str]:
    if isinstance(value, str):
        if (secret and len(value) >= MIN_SECRET) or _TOKEN_LIKE.fullmatch(value):
            yield value
            escaped = value.encode("unicode_escape").decode("ascii")  # as JSON-ish text
            if escaped != value:
                yield escaped
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, secret or bool(_SECRET_KEY.search(str(k))))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v, secret)


class Watchdog:
    """Kills ``proc``'s process group after ``total`` seconds, or after ``idle`` seconds
    without :meth:`progress`; :attr:`expired` then says which limit passed."""

    def __init__(self, proc: subprocess.Popen[bytes], total: float | None, idle: float | None):
        self.proc = proc
        self.total, self.idle = total, idle
        self.started = self.last = time.monotonic()
        self.expired: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        if total is not None or idle is not None:
            self._thread.start()

    def progress(self) -> None:
        self.last = time.monotonic()

    def stop(self) -> None:
        self._done.set()

    def _watch(self) -> None:
        while not self._done.wait(min(0.5, self.total or 0.5, self.idle or 0.5)):
            now = time.monotonic()
            if self.total is not None and now - self.started > self.total:
                self.expired = f"did not finish within {self.total:g}s"
            elif self.idle is not None and now - self.last > self.idle:
                self.expired = f"made no progress (no output) for {self.idle:g}s"
            if self.expired:
                kill_group(self.proc)
                return


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group ``proc`` leads (started with ``start_new_session``)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # children it left behind too
    except (ProcessLookupError, PermissionError):
        if proc.poll() is None:
            proc.kill()
