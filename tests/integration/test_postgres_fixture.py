"""The PostgreSQL fixture: an unreachable server skips locally and fails under CI."""

from __future__ import annotations

from collections.abc import Callable

import pytest

UNREACHABLE = ("host=127.0.0.1 port=1 dbname=postgres connect_timeout=2",)


def test_unreachable_server_fails_under_ci(
    server_finder: Callable[[tuple[str, ...], bool], str],
) -> None:
    with pytest.raises(pytest.fail.Exception, match="CI=true: the access rules must be proven"):
        server_finder(UNREACHABLE, True)


def test_unreachable_server_skips_locally(
    server_finder: Callable[[tuple[str, ...], bool], str],
) -> None:
    with pytest.raises(pytest.skip.Exception, match="no PostgreSQL superuser connection"):
        server_finder(UNREACHABLE, False)
