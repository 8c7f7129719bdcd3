"""keel's standard for Airbyte connections, as a pure diff: (desired, actual) -> AirbytePlan.

DESIGN section 8. Per connection: destination namespace ``custom_format`` = the source's
RAW schema; each selected stream ``incremental_deduped_history`` where it has a primary
key and a cursor (source-defined, else from the contract; a key the source defines is
never sent, Airbyte refuses it), else ``full_refresh_overwrite``, with the reason; the
stream list always sent whole (``configurations`` replaces the selection) and never
shorter than what is selected; schedule cron, Quartz, UTC (``0 0 * * * ?`` hourly, at
most hourly); status ``active``; ``nonBreakingSchemaUpdatesBehavior: propagate_columns``.
Per destination: Destinations V2 typing and deduping on (Snowflake's
``disable_type_dedupe`` is the legacy raw-tables-only mode). Per workspace: the success,
failure and connection notifications' webhooks point at ``keel serve``.
Nothing here calls the API: ``build_plan`` takes what the client read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

DEDUP = "incremental_deduped_history"
OVERWRITE = "full_refresh_overwrite"
CRON = {"hourly": "0 0 * * * ?", "daily": "0 0 0 * * ?", "streaming": "0 0 * * * ?"}
NOTIFY_KINDS = ("success", "failure", "syncDisabled", "syncDisabledWarning",
                "connectionUpdateActionRequired")  # fmt: skip
SECRET_MARK = "<KEEL_WEBHOOK_TOKEN>"
# per-stream settings that are the user's: sent back as they are, unless empty (a GET
# answers ``selectedFields: []``, which sent back would select no field)
KEPT = ("selectedFields", "mappers", "includeFiles", "destinationObjectName")


@dataclass(frozen=True)
class Desired:
    """What keel.yml says about one source's connection."""

    source: str
    raw_schema: str
    schedule: str  # hourly | daily | streaming | manual
    contract: dict[str, tuple[list[str], str | None]]  # stream -> (primary key, cursor)


@dataclass
class AirbyteChange:
    target: str  # connection | destination | workspace
    object_id: str
    name: str
    differences: list[str]
    body: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    source: str | None = None

    def to_dict(self, secret: str | None = None) -> dict[str, Any]:
        return {
            "target": self.target,
            "id": self.object_id,
            "name": self.name,
            "source": self.source,
            "differences": self.differences,
            "notes": self.notes,
            "request": {"method": "PATCH", "path": self.path, "body": redact(self.body, secret)},
        }

    @property
    def path(self) -> str:
        return f"/{self.target}s/{self.object_id}"


@dataclass
class AirbytePlan:
    changes: list[AirbyteChange] = field(default_factory=list)
    streams: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # source -> modes
    warnings: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.changes

    def fingerprint(self, secret: str | None = None) -> str:
        """Of what was read and what would be sent: a saved plan applies only while the
        workspace still gives the same plan."""
        text = json.dumps(self.to_dict(secret), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self, secret: str | None = None) -> dict[str, Any]:
        return {
            "changes": [c.to_dict(secret) for c in self.changes],
            "streams": self.streams,
            "warnings": self.warnings,
        }


def redact(value: Any, secret: str | None) -> Any:
    if not secret:
        return value
    if isinstance(value, dict):
        return {k: redact(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secret) for v in value]
    if isinstance(value, str):
        return value.replace(secret, SECRET_MARK)
    return value


def schedule_body(schedule: str) -> dict[str, Any]:
    if schedule == "manual":
        return {"scheduleType": "manual"}
    return {"scheduleType": "cron", "cronExpression": CRON.get(schedule, CRON["hourly"])}


def stream_choice(
    name: str, props: dict[str, Any] | None, contract: tuple[list[str], str | None] | None
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(body entry, effective {syncMode, primaryKey, cursorField}, reason) for one stream."""
    props = props or {}
    source_pk: list[list[str]] = props.get("sourceDefinedPrimaryKey") or []
    source_cursor: list[str] = props.get("defaultCursorField") or []
    contract_pk = [[c] for c in (contract[0] if contract else [])]
    contract_cursor = [contract[1]] if contract and contract[1] else []
    pk, pk_from = (source_pk, "source") if source_pk else (contract_pk, "contract")
    cursor, cur_from = (source_cursor, "source") if source_cursor else (contract_cursor, "contract")
    body: dict[str, Any] = {"name": name}
    if DEDUP not in (props.get("syncModes") or []):
        reason = "the source offers no incremental sync for it"
    elif not pk:
        reason = "no primary key (none from the source, none in the contract)"
    elif not cursor:
        reason = "no cursor (none from the source, none in the contract)"
    else:
        body["syncMode"] = DEDUP
        if not source_cursor:
            body["cursorField"] = cursor
        if not source_pk:  # a key the source defines is never sent
            body["primaryKey"] = pk
        reason = f"primary key from the {pk_from}, cursor from the {cur_from}"
        return body, {"syncMode": DEDUP, "primaryKey": pk, "cursorField": cursor}, reason
    body["syncMode"] = OVERWRITE
    return body, {"syncMode": OVERWRITE}, reason


def connection_change(
    want: Desired, conn: dict[str, Any], catalog: list[dict[str, Any]]
) -> tuple[AirbyteChange | None, list[dict[str, Any]]]:
    """The PATCH that brings one connection to the standard (None when it already is)."""
    diffs: list[str] = []
    notes: list[str] = []
    body: dict[str, Any] = {}
    name = conn.get("name", conn["connectionId"])
    if conn.get("namespaceDefinition") != "custom_format" or (
        conn.get("namespaceFormat") != want.raw_schema
    ):
        diffs.append(
            f"namespace {conn.get('namespaceDefinition')}"
            f"{'/' + str(conn.get('namespaceFormat')) if conn.get('namespaceFormat') else ''}"
            f" -> custom_format/{want.raw_schema}"
        )
        body["namespaceDefinition"] = "custom_format"
        body["namespaceFormat"] = want.raw_schema
    sched = schedule_body(want.schedule)
    current = conn.get("schedule") or {}
    if current.get("scheduleType") != sched["scheduleType"] or (
        current.get("cronExpression") != sched.get("cronExpression")
    ):
        was = current.get("cronExpression") or current.get("basicTiming") or ""
        diffs.append(f"schedule {current.get('scheduleType')} {was}".rstrip()
                     + f" -> {sched['scheduleType']} {sched.get('cronExpression', '')} UTC".rstrip())  # fmt: skip
        body["schedule"] = sched
    if conn.get("status") != "active":
        diffs.append(f"status {conn.get('status')} -> active")
        body["status"] = "active"
        if conn.get("status") == "locked":
            notes.append("the connection is locked: Airbyte refuses changes until it is unlocked")
    if conn.get("nonBreakingSchemaUpdatesBehavior") != "propagate_columns":
        diffs.append(
            f"nonBreakingSchemaUpdatesBehavior {conn.get('nonBreakingSchemaUpdatesBehavior')}"
            " -> propagate_columns"
        )
        body["nonBreakingSchemaUpdatesBehavior"] = "propagate_columns"
    props = {p.get("streamName"): p for p in catalog}
    selected = [s["name"] for s in (conn.get("configurations") or {}).get("streams") or []]
    for stream in want.contract:
        if stream not in selected and stream in props:
            diffs.append(f"stream {stream}: not selected -> selected (in the contract)")
            selected.append(stream)
    current_streams = {
        s["name"]: s for s in (conn.get("configurations") or {}).get("streams") or []
    }
    entries, modes, stream_diff = [], [], False
    for stream in selected:
        entry, effective, reason = stream_choice(
            stream, props.get(stream), want.contract.get(stream)
        )
        have = current_streams.get(stream)
        for key in KEPT:  # what the user chose per stream survives the PATCH
            if have and have.get(key):
                entry[key] = have[key]
        entries.append(entry)
        modes.append({"stream": stream, "syncMode": effective["syncMode"], "reason": reason})
        if have is None:
            stream_diff = True
            continue
        for key, value in effective.items():  # the mode first: one line when it differs
            if (have.get(key) or []) != value:
                diffs.append(f"stream {stream}: {key} {have.get(key)} -> {value} ({reason})")
                stream_diff = True
                break
    if stream_diff:
        body["configurations"] = {"streams": entries}  # the whole list: it replaces the selection
    if not diffs:
        return None, modes
    change = AirbyteChange(
        "connection", conn["connectionId"], name, diffs, body, notes, want.source
    )
    return change, modes


def destination_change(dest: dict[str, Any]) -> AirbyteChange | None:
    config = dest.get("configuration") or {}
    if dest.get("destinationType") == "snowflake" and config.get("disable_type_dedupe"):
        return AirbyteChange(
            "destination",
            dest["destinationId"],
            dest.get("name", dest["destinationId"]),
            ["legacy raw tables only (disable_type_dedupe) -> Destinations V2 final tables"],
            {"configuration": {"disable_type_dedupe": False}},
        )
    return None


def workspace_change(workspace: dict[str, Any], url: str) -> AirbyteChange | None:
    current = workspace.get("notifications") or {}
    diffs: list[str] = []
    notifications = {k: dict(v) for k, v in current.items() if isinstance(v, dict)}
    for kind in NOTIFY_KINDS:
        hook = (current.get(kind) or {}).get("webhook") or {}
        if hook.get("url") != url or hook.get("enabled") is not True:
            diffs.append(f"notification {kind}: webhook -> keel serve")
        notifications[kind] = {
            **notifications.get(kind, {}),
            "webhook": {"enabled": True, "url": url},
        }
    if not diffs:
        return None
    body = {"notifications": notifications}
    return AirbyteChange(
        "workspace", workspace["workspaceId"], workspace.get("name", ""), diffs, body
    )
