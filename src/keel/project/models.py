"""Pydantic models of ``keel.yml`` and of a contract file (dbt sources, version 2).

Models are strict about their own keys (``extra="forbid"``) so a typo is an
error with a hint, except where dbt allows free-form content (``meta``,
``config``). Data tests are normalised into :class:`DataTest` by the loader
before the contract is validated, so every test carries its file and line.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

Engine = Literal["duckdb", "postgres", "snowflake"]
Schedule = Literal["hourly", "daily", "streaming", "manual"]
Severity = Literal["error", "warn"]
OnFail = Literal["block", "quarantine_rows"]
OnMetaChanges = Literal["warn", "block"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Warehouse(Strict):
    engine: Engine = "duckdb"
    path: str = ".keel/warehouse.duckdb"
    dsn: SecretStr | None = None
    account: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    private_key_path: str | None = None
    private_key_passphrase: SecretStr | None = None
    authenticator: str | None = None  # snowflake: externalbrowser for people (SSO)
    role: str | None = None
    warehouse: str | None = None
    database: str | None = None
    # snowflake: roles are created as this role (USERADMIN) and grants made as that one
    # (SECURITYADMIN), each switched to with USE ROLE and back to ``role``
    roles_as: str | None = None
    grants_as: str | None = None
    edition: Literal["standard", "enterprise"] = "enterprise"  # snowflake: masking policies


class MetadataTag(Strict):
    name: str = "SOPHIA_AI_METADATA"
    schema_: str = Field("SOPHIA_OPS", alias="schema")
    max_length: int = Field(256, ge=16, le=256)
    keys: dict[str, list[str]]


class SchemaSpec(Strict):
    description: str | None = None
    meta: dict[str, str] = {}
    kind: Literal["platform", "data"] = "platform"


class RoleSpec(Strict):
    description: str | None = None
    read: list[str] = []
    write: list[str] = []
    own: list[str] = []
    granted_to: list[str] = []
    masked_pii_levels: list[str] = []


class AirbyteRef(Strict):
    connection_id: str | None = None
    connection_name: str | None = None


class DbtTransform(Strict):
    project_dir: str
    select: str | None = None


class Transform(Strict):
    dbt: DbtTransform | None = None
    command: list[str] | None = None


class ConnectorTimeouts(Strict):
    """Seconds each connector command may take; ``read_idle``: longest time without
    output during ``read`` (keel.ingest.guard). The process group is killed after."""

    spec: float = Field(300, gt=0)
    check: float = Field(300, gt=0)
    discover: float = Field(900, gt=0)
    read: float = Field(86400, gt=0)
    read_idle: float = Field(900, gt=0)


class ChangesTrigger(Strict):
    """``trigger: changes`` (issue 14): keel serve gates and publishes when rows landed."""

    min_rows: int = Field(default=1, ge=1)  # publish once this many rows are pending ...
    quiet: float = Field(default=2.0, ge=0)  # ... and none landed for this many seconds
    max_wait: float = Field(default=60.0, gt=0)  # pending rows never wait longer than this
    probe_every: float = Field(default=1.0, gt=0)  # seconds between two cheap probes


class SourceSpec(Strict):
    description: str | None = None
    # webhook: Airbyte's notification runs the gate; changes: keel serve watches RAW
    trigger: Literal["webhook", "changes"] = "webhook"
    changes: ChangesTrigger = ChangesTrigger()
    # every source is gated at least this often, whatever its trigger (a missed webhook,
    # a late row the probe did not see); 0 turns it off
    fallback_seconds: float = Field(default=900.0, ge=0)
    schedule: Schedule = "hourly"
    airbyte: AirbyteRef | None = None
    connector: str = "demo"
    config: dict[str, Any] = {}
    streams: list[str] | None = None
    transform: Transform | None = None
    timeouts: ConnectorTimeouts = ConnectorTimeouts()


class SlackAlerts(Strict):
    webhook_url: SecretStr | None = None


class PagerDutyAlerts(Strict):
    routing_key: SecretStr | None = None
    events_url: str = "https://events.pagerduty.com/v2/enqueue"


class ConsoleAlerts(Strict):
    path: str | None = ".keel/alerts.log"


class Alerts(Strict):
    slack: SlackAlerts = SlackAlerts()
    pagerduty: PagerDutyAlerts = PagerDutyAlerts()
    console: ConsoleAlerts = ConsoleAlerts()


class AirbyteApi(Strict):
    api_url: str = "https://api.airbyte.com/v1"
    workspace_id: str | None = None
    client_id: SecretStr | None = None
    client_secret: SecretStr | None = None
    token: SecretStr | None = None
    username: SecretStr | None = None  # basic auth (self-hosted Airbyte)
    password: SecretStr | None = None
    poll_minutes: int = Field(5, ge=1, le=1440)
    timeout_seconds: float = Field(30.0, gt=0, le=600)
    retries: int = Field(4, ge=0, le=10)


class Serve(Strict):
    public_url: str = "http://127.0.0.1:8787"
    token: SecretStr | None = None


class Classification(Strict):
    sample_rows: int = Field(50, ge=0, le=10_000)
    long_text_chars: int = Field(200, ge=1)


class ProjectFile(Strict):
    """``keel.yml``."""

    version: Literal[1] = 1
    name: str = "keel"
    warehouse: Warehouse = Warehouse()
    metadata_tag: MetadataTag
    schemas: dict[str, SchemaSpec] = {}
    roles: dict[str, RoleSpec] = {}
    sources: dict[str, SourceSpec] = {}
    alerts: Alerts = Alerts()
    airbyte: AirbyteApi | None = None
    serve: Serve = Serve()
    classification: Classification = Classification()
    vars: dict[str, Any] = {}  # dbt's var(): values for the jinja in contracts
    dbt_project: str | None = None  # a dbt project whose sources files are the contracts

    @field_validator("sources")
    @classmethod
    def _source_names(cls, value: dict[str, SourceSpec]) -> dict[str, SourceSpec]:
        for name in value:
            if not name.replace("_", "").isalnum() or not name[:1].isalpha():
                raise ValueError(f"source name {name!r} must be letters, digits and underscores")
        return value


# ---- contracts (dbt sources format) -------------------------------------------------


class DataTest(Strict):
    """One data test, normalised from any of dbt's spellings."""

    name: str
    args: dict[str, Any] = {}
    severity: Severity = "error"
    where: str | None = None
    column: str | None = None
    file: str = ""
    line: int = 0


class Freshness(Strict):
    warn_after: dict[str, Any] | None = None
    error_after: dict[str, Any] | None = None
    filter: str | None = None


class KeelMeta(Strict):
    primary_key: list[str] = []
    cursor: str | None = None
    critical: bool = False
    on_fail: OnFail = "block"
    deleted_at: str | None = None
    # how far before the watermark a gate still looks for rows committed late (issue 14)
    lookback_hours: float = Field(default=72.0, gt=0)
    # rows extracted in the last settle_seconds wait for the next batch (late commits)
    settle_seconds: float = Field(default=0.0, ge=0)
    # a promise about the loader: it commits every row within this many seconds of its
    # _AIRBYTE_EXTRACTED_AT (clock skew included); the read floor moves (docs/batches.md)
    max_lateness_seconds: float | None = Field(default=None, gt=0)
    # rows whose _AIRBYTE_META.changes is not empty (a value the loader nulled or cut)
    on_meta_changes: OnMetaChanges = "warn"

    @property
    def wait_seconds(self) -> float:
        """How long ago a row must have been extracted for a batch to take it."""
        return max(self.settle_seconds, self.max_lateness_seconds or 0.0)

    @field_validator("primary_key", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class ColumnContract(Strict):
    name: str
    description: str | None = None
    data_type: str | None = None
    meta: dict[str, Any] = {}
    data_tests: list[DataTest] = []
    tags: list[str] | str = []
    quote: bool | None = None
    config: dict[str, Any] = {}
    constraints: list[Any] = []
    docs: dict[str, Any] = {}
    # accepted as dbt does (dbt-core 1.11 jsonschema ColumnProperties); keel does not use them
    column_mask: Any = None
    databricks_tags: Any = None
    dimension: Any = None
    entity: Any = None
    granularity: Any = None
    policy_tags: Any = None


class TableContract(Strict):
    name: str
    description: str | None = None
    identifier: str | None = None
    meta: dict[str, Any] = {}
    loaded_at_field: str | None = None
    freshness: Freshness | None = None
    columns: list[ColumnContract] = []
    data_tests: list[DataTest] = []
    tags: list[str] | str = []
    config: dict[str, Any] = {}
    quoting: dict[str, Any] = {}
    external: dict[str, Any] | None = None
    loader: str | None = None
    docs: dict[str, Any] = {}


class SourceContract(Strict):
    name: str
    description: str | None = None
    database: str | None = None
    schema_: str | None = Field(None, alias="schema")
    meta: dict[str, Any] = {}
    loader: str | None = None
    loaded_at_field: str | None = None
    freshness: Freshness | None = None
    tables: list[TableContract] = []
    tags: list[str] | str = []
    config: dict[str, Any] = {}
    quoting: dict[str, Any] = {}
    catalog: str | None = None
    overrides: Any = None  # deprecated in dbt 1.10; accepted, unused


class ContractFile(Strict):
    version: Literal[2]
    sources: list[SourceContract] = []
    anchors: list[Any] | None = None  # dbt 1.10+: a home for YAML anchors, otherwise unused
