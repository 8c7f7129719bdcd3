"""The ``keel`` executable: run one command, then leave without tearing Python down.

A command has closed what it opened (the Context closes the warehouse connection, which
checkpoints DuckDB's write-ahead log) by the time click ends it. What a normal exit adds
after that is freeing every module and running the C++ destructors of the loaded
drivers: about 12 ms of a 0.16 s ``keel gate``, for nothing. So, once the command is
done, :func:`run` flushes the standard streams, runs the ``atexit`` handlers (logging's
flush, ``weakref.finalize`` clean-ups of temporary folders) and ends the process with
``os._exit``. It exits the usual way when another non-daemon thread is still alive, so
no thread's work is cut short. ``keel.cli.main`` (the click group) is unchanged for
tests and embedding; only the executable and ``python -m keel`` come through here.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_code(code: str | int | None) -> int:
    """The process exit status ``sys.exit(code)`` would give (a message is printed)."""
    if code is None:
        return 0
    if isinstance(code, int):  # as C's exit() of Python's C long: 255 when it overflows
        return code & 0xFF if -(2**63) <= code < 2**63 else 255
    sys.stderr.write(f"{code}\n")  # as Python prints a SystemExit message
    return 1


def run() -> NoReturn:
    from keel.cli import main

    try:
        main()  # a click group ends by raising SystemExit
        code: str | int | None = 0
    except SystemExit as exc:
        code = exc.code
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    if any(t.is_alive() and not t.daemon for t in others):
        sys.exit(code)
    status = exit_code(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: 120, as Python's own exit gives
            status = 120
    os._exit(status)
