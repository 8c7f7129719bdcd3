"""The Sophia workspace on the local Airbyte API: four connections, each off keel's standard."""

from __future__ import annotations

from typing import Any

from tests.support.airbyte_api import FakeAirbyte, stream

CLIENT_ID, CLIENT_SECRET = "keel-client", "keel-client-secret"
SOPHIA_STREAMS = {
    "gong": ["users", "calls"],
    "hubspot": ["companies", "contacts", "deals"],
    "slack": ["channels", "users", "messages"],
    "netsuite": ["customers", "employees", "invoices"],
}
TITLES = {"gong": "Gong", "hubspot": "HubSpot", "slack": "Slack", "netsuite": "NetSuite"}
HOURLY = {"scheduleType": "cron", "cronExpression": "0 0 * * * ?"}


def nonstandard_world(fake: FakeAirbyte) -> dict[str, Any]:
    """The Sophia workspace with four connections, each off the standard in its own way,
    named as Airbyte names them ("Gong → Snowflake"), and a legacy raw-only destination.

    gong: wrong namespace; hubspot: full refresh where the source defines key and cursor;
    slack: manual schedule; netsuite: a contract stream deselected, one extra stream with no
    key (stays selected, full refresh). Gong and HubSpot keys are source-defined (never sent);
    Slack and NetSuite keys come from the contract (sent)."""
    fake.clients[CLIENT_ID] = CLIENT_SECRET
    ws = fake.workspace()
    dest = fake.destination(
        ws, config={"host": "acme.snowflakecomputing.com", "disable_type_dedupe": True}
    )
    ids: dict[str, Any] = {"workspace": ws, "destination": dest}
    for src, names in SOPHIA_STREAMS.items():
        if src in ("gong", "hubspot"):
            catalog = [stream(n, pk=[["id"]], cursor=["updated_at"]) for n in names]
        elif src == "slack":
            catalog = [stream(n, cursor=["updated_at"]) for n in names]
        else:
            catalog = [stream(n, incremental=True) for n in names] + [stream("audit_log")]
        sid = fake.source(ws, TITLES[src], catalog)
        schema = f"{src.upper()}_DATA_RAW"
        dedup = []
        for n in names:
            entry: dict[str, Any] = {"name": n, "syncMode": "incremental_deduped_history",
                                     "cursorField": ["updated_at"], "primaryKey": [["id"]]}  # fmt: skip
            dedup.append(entry)
        fields: dict[str, Any] = {
            "namespaceDefinition": "custom_format", "namespaceFormat": schema,
            "schedule": {"scheduleType": "cron", "cronExpression":
                         "0 0 0 * * ?" if src == "netsuite" else "0 0 * * * ?"},
            "nonBreakingSchemaUpdatesBehavior": "propagate_columns",
            "configurations": {"streams": dedup},
        }  # fmt: skip
        if src == "gong":
            fields["namespaceDefinition"], fields["namespaceFormat"] = "destination", ""
        if src == "hubspot":
            fields["configurations"] = {"streams": [{"name": n, "syncMode": "full_refresh_overwrite",
                                                     "cursorField": [], "primaryKey": [["id"]]}
                                                    for n in names]}  # fmt: skip
        if src == "slack":
            fields["schedule"] = {"scheduleType": "manual"}
        if src == "netsuite":
            kept = [s for s in dedup if s["name"] != "employees"]
            fields["configurations"] = {"streams": [*kept, {"name": "audit_log", "syncMode":
                                        "full_refresh_overwrite", "cursorField": [], "primaryKey": []}]}  # fmt: skip
        ids[src] = fake.connection(ws, f"{TITLES[src]} → Snowflake", sid, dest, **fields)
    return ids
