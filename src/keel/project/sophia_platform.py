"""The Sophia platform's tag keys, platform schemas and roles (``keel init`` writes them
into keel.yml; keel.project.sophia re-exports them with the sources and contracts)."""

from __future__ import annotations

from typing import Any

TAG_KEYS: dict[str, list[str]] = {
    "entity_type": [
        "customer",
        "employee",
        "deal",
        "call",
        "company",
        "contact",
        "message",
        "channel",
        "invoice",
        "user",
        "product",
        "purchase",
        "event",
        "document",
        "other",
    ],
    "data_source": ["gong", "hubspot", "slack", "netsuite", "keel", "internal"],
    "update_frequency": ["hourly", "daily", "streaming", "manual"],
    "pii_level": ["none", "low", "high", "sensitive"],
    "vector_index": ["true", "false"],
    "is_primary_identifier": ["true", "false"],
    "layer": ["raw", "promoted", "semantic", "insights", "ml", "ops", "foundation"],
}

PLATFORM_SCHEMAS: dict[str, dict[str, Any]] = {
    "SOPHIA_SEMANTIC": {
        "description": "Generated _360 views the application reads.",
        "meta": {"layer": "semantic"},
    },
    "SOPHIA_INSIGHTS": {
        "description": "Output of the AutomatedInsightsService.",
        "meta": {"layer": "insights"},
    },
    "SOPHIA_ML": {
        "description": "Trained models of the PredictiveAnalyticsService.",
        "meta": {"layer": "ml"},
    },
    "SOPHIA_OPS": {
        "description": "Operational metadata: data-quality results, batches, events, alerts.",
        "meta": {"layer": "ops"},
    },
}

ROLES: dict[str, dict[str, Any]] = {
    "SOPHIA_AI_APP_ROLE": {
        "description": "The application: read-only on the semantic layer and promoted data.",
        "read": ["SOPHIA_SEMANTIC", "{SOURCE}_DATA"],
        "masked_pii_levels": ["high", "sensitive"],
    },
    "SOPHIA_AI_ETL_ROLE": {
        "description": "Airbyte: creates and writes tables in the _RAW landing schemas only.",
        "write": ["{SOURCE}_DATA_RAW"],
    },
    "SOPHIA_AI_ADMIN_ROLE": {
        "description": "keel and the platform's services: owns SOPHIA_* and the promoted schemas.",
        "own": ["SOPHIA_SEMANTIC", "SOPHIA_INSIGHTS", "SOPHIA_ML", "SOPHIA_OPS", "{SOURCE}_DATA"],
        "read": ["{SOURCE}_DATA_RAW"],
        "granted_to": ["SYSADMIN"],
    },
}
