"""The Sophia AI project that ``keel init`` writes, as data.

One definition serves two readers: ``keel init`` renders it to ``keel.yml``
and ``contracts/<source>.yml`` (dbt sources format), and the built-in demo
sources (``keel.ingest.demo``) derive their Airbyte catalogs from the same
streams, so the demo data always fits the contracts.
"""

from __future__ import annotations

from typing import Any

from keel.project.sophia_platform import PLATFORM_SCHEMAS, ROLES, TAG_KEYS

__all__ = ["PLATFORM_SCHEMAS", "ROLES", "SOURCES", "STREAMS", "TAG_KEYS", "contract"]

SOURCES: dict[str, dict[str, Any]] = {
    "gong": {"schedule": "hourly", "entity": "call", "title": "Gong"},
    "hubspot": {"schedule": "hourly", "entity": "company", "title": "HubSpot"},
    "slack": {"schedule": "hourly", "entity": "message", "title": "Slack"},
    "netsuite": {"schedule": "daily", "entity": "invoice", "title": "NetSuite"},
}


def _col(
    name: str,
    data_type: str,
    description: str,
    meta: dict[str, Any] | None = None,
    tests: list[Any] | None = None,
) -> dict[str, Any]:
    col: dict[str, Any] = {"name": name, "data_type": data_type, "description": description}
    if meta:
        col["meta"] = meta
    if tests:
        col["data_tests"] = tests
    return col


PK = {"is_primary_identifier": "true", "pii_level": "none"}
EMAIL = {"pii_level": "high"}
NAME = {"pii_level": "high"}
TEXT = {"pii_level": "high", "vector_index": "true"}


def _ref(source: str, table: str, field: str = "id") -> dict[str, Any]:
    return {
        "relationships": {"arguments": {"to": f"source('{source}', '{table}')", "field": field}}
    }


def _accepted(values: list[str]) -> dict[str, Any]:
    return {"accepted_values": {"arguments": {"values": values}}}


ID_TESTS: list[Any] = ["not_null", "unique"]
UPDATED = _col("updated_at", "timestamp", "Last change at the source (cursor).", tests=["not_null"])

# stream -> (entity_type, table meta, columns)
STREAMS: dict[str, dict[str, dict[str, Any]]] = {
    "gong": {
        "users": {
            "description": "Gong users (sales reps).",
            "meta": {"entity_type": "user", "pii_level": "high", "vector_index": "false"},
            "columns": [
                _col("id", "varchar", "Gong user id.", PK, ID_TESTS),
                _col("email", "varchar", "Work email.", EMAIL, ["not_null"]),
                _col("first_name", "varchar", "First name.", NAME),
                _col("last_name", "varchar", "Last name.", NAME),
                _col("title", "varchar", "Job title."),
                _col("active", "boolean", "Whether the user is active."),
                UPDATED,
            ],
        },
        "calls": {
            "description": "Recorded calls with transcripts.",
            "meta": {"entity_type": "call", "pii_level": "high", "vector_index": "true"},
            "columns": [
                _col("id", "varchar", "Gong call id.", PK, ID_TESTS),
                _col("title", "varchar", "Call title."),
                _col("started_at", "timestamp", "When the call started.", tests=["not_null"]),
                _col(
                    "duration_seconds",
                    "bigint",
                    "Length of the call.",
                    tests=[{"accepted_range": {"arguments": {"min_value": 0, "max_value": 86400}}}],
                ),
                _col(
                    "direction",
                    "varchar",
                    "Call direction.",
                    tests=[_accepted(["Inbound", "Outbound", "Conference", "Unknown"])],
                ),
                _col(
                    "primary_user_id",
                    "varchar",
                    "The Gong user who hosted the call.",
                    {"pii_level": "none"},
                    [_ref("gong", "users")],
                ),
                _col("transcript", "varchar", "Full call transcript.", TEXT),
                UPDATED,
            ],
        },
    },
    "hubspot": {
        "companies": {
            "description": "CRM companies.",
            "meta": {"entity_type": "company", "pii_level": "low", "vector_index": "false"},
            "columns": [
                _col("id", "varchar", "HubSpot company id.", PK, ID_TESTS),
                _col(
                    "name",
                    "varchar",
                    "Company name.",
                    {"is_primary_identifier": "true", "pii_level": "low"},
                    ["not_null"],
                ),
                _col("domain", "varchar", "Web domain."),
                _col("industry", "varchar", "Industry."),
                _col(
                    "annual_revenue",
                    "double",
                    "Annual revenue in USD.",
                    tests=[{"accepted_range": {"arguments": {"min_value": 0}}}],
                ),
                UPDATED,
            ],
        },
        "contacts": {
            "description": "CRM contacts.",
            "meta": {"entity_type": "contact", "pii_level": "high", "vector_index": "false"},
            "columns": [
                _col("id", "varchar", "HubSpot contact id.", PK, ID_TESTS),
                _col("email", "varchar", "Email address.", EMAIL, ["not_null"]),
                _col("first_name", "varchar", "First name.", NAME),
                _col("last_name", "varchar", "Last name.", NAME),
                _col("phone", "varchar", "Phone number.", {"pii_level": "high"}),
                _col(
                    "company_id",
                    "varchar",
                    "The contact's company.",
                    {"pii_level": "none"},
                    [_ref("hubspot", "companies")],
                ),
                _col(
                    "lifecycle_stage",
                    "varchar",
                    "HubSpot lifecycle stage.",
                    tests=[
                        _accepted(
                            [
                                "subscriber",
                                "lead",
                                "marketingqualifiedlead",
                                "salesqualifiedlead",
                                "opportunity",
                                "customer",
                                "evangelist",
                                "other",
                            ]
                        )
                    ],
                ),
                UPDATED,
            ],
        },
        "deals": {
            "description": "CRM deals.",
            "meta": {"entity_type": "deal", "pii_level": "none", "vector_index": "false"},
            "columns": [
                _col("id", "varchar", "HubSpot deal id.", PK, ID_TESTS),
                _col("deal_name", "varchar", "Deal name.", tests=["not_null"]),
                _col(
                    "amount",
                    "double",
                    "Deal amount in USD.",
                    tests=[{"accepted_range": {"arguments": {"min_value": 0}}}],
                ),
                _col(
                    "deal_stage",
                    "varchar",
                    "Pipeline stage.",
                    tests=[
                        _accepted(
                            [
                                "appointmentscheduled",
                                "qualifiedtobuy",
                                "presentationscheduled",
                                "decisionmakerboughtin",
                                "contractsent",
                                "closedwon",
                                "closedlost",
                            ]
                        )
                    ],
                ),
                _col(
                    "company_id",
                    "varchar",
                    "The deal's company.",
                    {"pii_level": "none"},
                    [_ref("hubspot", "companies")],
                ),
                _col("close_date", "date", "Expected or actual close date."),
                UPDATED,
            ],
        },
    },
    "slack": {
        "channels": {
            "description": "Slack channels.",
            "meta": {"entity_type": "channel", "pii_level": "none", "vector_index": "false"},
            "columns": [
                _col("id", "varchar", "Channel id.", PK, ID_TESTS),
                _col(
                    "name",
                    "varchar",
                    "Channel name.",
                    {"is_primary_identifier": "true", "pii_level": "none"},
                    ["not_null"],
                ),
                _col("is_private", "boolean", "Private channel."),
                _col("topic", "varchar", "Channel topic."),
                UPDATED,
            ],
        },
        "users": {
            "description": "Slack members.",
            "meta": {"entity_type": "user", "pii_level": "high", "vector_index": "false"},
            "columns": [
                _col("id", "varchar", "Slack user id.", PK, ID_TESTS),
                _col("name", "varchar", "Handle.", {"pii_level": "low"}),
                _col("real_name", "varchar", "Full name.", NAME),
                _col("email", "varchar", "Email address.", EMAIL),
                _col("is_bot", "boolean", "Bot user."),
                UPDATED,
            ],
        },
        "messages": {
            "description": "Channel messages.",
            "meta": {"entity_type": "message", "pii_level": "high", "vector_index": "true"},
            "columns": [
                _col("id", "varchar", "Message id (channel and timestamp).", PK, ID_TESTS),
                _col(
                    "channel_id",
                    "varchar",
                    "Channel.",
                    {"pii_level": "none"},
                    ["not_null", _ref("slack", "channels")],
                ),
                _col(
                    "user_id", "varchar", "Author.", {"pii_level": "none"}, [_ref("slack", "users")]
                ),
                _col("text", "varchar", "Message text.", TEXT),
                _col("sent_at", "timestamp", "When the message was posted.", tests=["not_null"]),
                UPDATED,
            ],
        },
    },
    "netsuite": {
        "customers": {
            "description": "Finance customers.",
            "meta": {"entity_type": "customer", "pii_level": "high", "vector_index": "false"},
            "columns": [
                _col("id", "varchar", "NetSuite customer id.", PK, ID_TESTS),
                _col(
                    "company_name",
                    "varchar",
                    "Legal name.",
                    {"is_primary_identifier": "true", "pii_level": "low"},
                    ["not_null"],
                ),
                _col("email", "varchar", "Billing email.", EMAIL),
                _col("phone", "varchar", "Billing phone.", {"pii_level": "high"}),
                _col(
                    "status",
                    "varchar",
                    "Customer status.",
                    tests=[_accepted(["lead", "prospect", "customer", "closed"])],
                ),
                UPDATED,
            ],
        },
        "employees": {
            "description": "Employees.",
            "meta": {"entity_type": "employee", "pii_level": "sensitive", "vector_index": "false"},
            "columns": [
                _col("id", "varchar", "NetSuite employee id.", PK, ID_TESTS),
                _col("first_name", "varchar", "First name.", NAME),
                _col("last_name", "varchar", "Last name.", NAME),
                _col("email", "varchar", "Work email.", EMAIL, ["not_null"]),
                _col("department", "varchar", "Department."),
                _col("ssn", "varchar", "National id (US SSN).", {"pii_level": "sensitive"}),
                _col("hire_date", "date", "Hire date."),
                UPDATED,
            ],
        },
        "invoices": {
            "description": "Customer invoices.",
            "meta": {"entity_type": "invoice", "pii_level": "none", "vector_index": "false"},
            "columns": [
                _col("id", "varchar", "NetSuite invoice id.", PK, ID_TESTS),
                _col(
                    "customer_id",
                    "varchar",
                    "Billed customer.",
                    {"pii_level": "none"},
                    ["not_null", _ref("netsuite", "customers")],
                ),
                _col("tran_date", "date", "Invoice date."),
                _col(
                    "amount",
                    "double",
                    "Invoice total.",
                    tests=[{"accepted_range": {"arguments": {"min_value": 0}}}],
                ),
                _col(
                    "currency", "varchar", "ISO currency.", tests=[_accepted(["USD", "EUR", "GBP"])]
                ),
                _col(
                    "status",
                    "varchar",
                    "Invoice status.",
                    tests=[_accepted(["open", "paid", "voided"])],
                ),
                UPDATED,
            ],
        },
    },
}


def contract(source: str) -> dict[str, Any]:
    """``contracts/<source>.yml`` for one Sophia source, as a dict (dbt sources format)."""
    tables = []
    for name, spec in STREAMS[source].items():
        meta = dict(spec["meta"])
        meta["keel"] = {"primary_key": ["id"], "cursor": "updated_at"}
        tables.append(
            {
                "name": name,
                "description": spec["description"],
                "meta": meta,
                "loaded_at_field": "_airbyte_extracted_at",
                "freshness": {
                    "warn_after": {"count": 2, "period": "day"},
                    "error_after": {"count": 7, "period": "day"},
                },
                "columns": spec["columns"],
            }
        )
    return {
        "version": 2,
        "sources": [
            {
                "name": source,
                "description": f"{source.capitalize()} data loaded by Airbyte.",
                "schema": f"{source.upper()}_DATA_RAW",
                "meta": {"data_source": source},
                "tables": tables,
            }
        ],
    }
