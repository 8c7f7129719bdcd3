"""keel against a live Snowflake account, on a scratch database.

Runs when SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_WAREHOUSE, SNOWFLAKE_DATABASE (a
scratch database keel's role owns: see docs/snowflake.md for the bootstrap) and either
SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH (+ SNOWFLAKE_PRIVATE_KEY_PASSPHRASE) are set;
skipped with the missing names otherwise. SNOWFLAKE_ROLES_AS / SNOWFLAKE_GRANTS_AS
(e.g. USERADMIN / SECURITYADMIN) are passed on when set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from keel.project.init import write_project

REQUIRED = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_WAREHOUSE", "SNOWFLAKE_DATABASE")
MISSING = [v for v in REQUIRED if not os.environ.get(v)]
if not (os.environ.get("SNOWFLAKE_PASSWORD") or os.environ.get("SNOWFLAKE_PRIVATE_KEY_PATH")):
    MISSING.append("SNOWFLAKE_PASSWORD or SNOWFLAKE_PRIVATE_KEY_PATH")

pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"no live Snowflake account: set {', '.join(MISSING)}"
)


@pytest.fixture
def live_project(tmp_path: Path) -> Path:
    root = tmp_path / "live"
    write_project(root, engine="snowflake")
    spec = yaml.safe_load((root / "keel.yml").read_text())
    wh = spec["warehouse"]
    if not os.environ.get("SNOWFLAKE_PASSWORD"):
        wh.pop("password", None)
        wh["private_key_path"] = "${SNOWFLAKE_PRIVATE_KEY_PATH}"
        if os.environ.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"):
            wh["private_key_passphrase"] = "${SNOWFLAKE_PRIVATE_KEY_PASSPHRASE}"
    for key in ("ROLES_AS", "GRANTS_AS", "ROLE"):
        if os.environ.get(f"SNOWFLAKE_{key}"):
            wh[key.lower()] = os.environ[f"SNOWFLAKE_{key}"]
    (root / "keel.yml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return root


def test_apply_converges_and_audit_runs(live_project: Path, keel: Any) -> None:
    r = keel("apply", "--yes", project=live_project)
    assert r.exit_code == 0, r.stdout + r.stderr
    r = keel("plan", "--detailed-exitcode", project=live_project)
    assert r.exit_code == 0, r.stdout
    audit = keel("audit", "--json", project=live_project).json()
    assert audit["engine"] == "snowflake"
    assert not [v for v in audit["violations"] if v["kind"] in ("grant_drift", "grant_missing")]
