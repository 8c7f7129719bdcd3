"""The values a loaded project holds: ``keel.yml`` and what contracts declare.

They are plain frozen dataclasses, so a command that reads a compiled project
(:mod:`keel.project.compiled`) never imports pydantic. Validation of the YAML is
pydantic's, applied by :func:`keel.project.validate.validate` (``extra`` keys
are errors, ``Bound`` limits and ``Literal`` values checked), so a typo is an
error with a hint. The YAML shape of a contract file, which no loaded project
keeps, is in :mod:`keel.project.contract_file`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Annotated, Any, ClassVar, Literal

from keel.project.envsub import substitute_text

Engine = Literal["duckdb", "postgres", "snowflake"]
Schedule = Literal["hourly", "daily", "streaming", "manual"]
Severity = Literal["error", "warn"]
OnFail = Literal["block", "quarantine_rows"]
OnMetaChanges = Literal["warn", "block"]
STRICT = {"extra": "forbid"}  # pydantic's config for every model here


class Bound:
    """Numeric limits of a field (``Annotated[float, Bound(gt=0)]``), read by pydantic."""

    def __init__(self, **limits: float) -> None:
        self.limits = limits

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        schema = handler(source)
        schema.update(self.limits)  # int and float core schemas take gt / ge / lt / le
        return schema


class Secret:
    """A secret value: never in ``repr``/``str``; ``get_secret_value()`` reads it.

    ``template`` is the text it was written as in keel.yml when that named an
    environment variable (``${SLACK_WEBHOOK_URL}``): a compiled project keeps only
    the template and reads the variable again when loaded (:meth:`from_template`),
    so no file of keel's holds the value of a secret that came from the environment.
    """

    __slots__ = ("_value", "template")

    def __init__(self, value: str, template: str | None = None) -> None:
        self._value = value
        self.template = template

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def from_template(cls, template: str) -> Secret:
        """The secret ``template`` names, read from the environment now."""
        return cls(substitute_text(template, os.environ), template)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import PydanticCustomError, core_schema

        def secret(value: Any) -> Secret:
            if isinstance(value, Secret):
                return value
            if not isinstance(value, str):
                raise PydanticCustomError("string_type", "Input should be a valid string")
            # text from keel.yml that named a variable keeps how it was written (envsub)
            return cls(str(value), getattr(value, "template", None))

        return core_schema.no_info_plain_validator_function(secret)


class Spec:
    """Base of the models: string values of ``SECRETS`` fields become :class:`Secret`."""

    SECRETS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for name in self.SECRETS:
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, Secret(value))


Positive = Annotated[float, Bound(gt=0)]


@dataclass(frozen=True)
class Warehouse(Spec):
    """``warehouse:`` in keel.yml: the engine and how to reach it."""

    __pydantic_config__ = STRICT
    SECRETS = ("dsn", "password", "private_key_passphrase")

    engine: Engine = "duckdb"
    path: str = ".keel/warehouse.duckdb"
    dsn: Secret | None = None
    account: str | None = None
    user: str | None = None
    password: Secret | None = None
    private_key_path: str | None = None
    private_key_passphrase: Secret | None = None
    authenticator: str | None = None  # snowflake: externalbrowser for people (SSO)
    role: str | None = None
    warehouse: str | None = None
    database: str | None = None
    # snowflake: roles are created as this role (USERADMIN) and grants made as that one
    # (SECURITYADMIN), each switched to with USE ROLE and back to ``role``
    roles_as: str | None = None
    grants_as: str | None = None
    edition: Literal["standard", "enterprise"] = "enterprise"  # snowflake: masking policies


@dataclass(frozen=True)
class MetadataTag:
    """``metadata_tag:``: the tag's name, schema, length limit and allowed keys/values."""

    __pydantic_config__ = STRICT

    keys: dict[str, list[str]]
    name: str = "SOPHIA_AI_METADATA"
    schema: str = "SOPHIA_OPS"
    max_length: Annotated[int, Bound(ge=16, le=256)] = 256


@dataclass(frozen=True)
class SchemaSpec:
    """One of keel.yml's ``schemas:`` (platform or data), with its tag metadata."""

    __pydantic_config__ = STRICT

    description: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    kind: Literal["platform", "data"] = "platform"


@dataclass(frozen=True)
class RoleSpec:
    """One of keel.yml's ``roles:``: what it reads, writes and owns, who holds it."""

    __pydantic_config__ = STRICT

    description: str | None = None
    read: list[str] = field(default_factory=list)
    write: list[str] = field(default_factory=list)
    own: list[str] = field(default_factory=list)
    granted_to: list[str] = field(default_factory=list)
    masked_pii_levels: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AirbyteRef:
    """The Airbyte connection of a source, by id or by name."""

    __pydantic_config__ = STRICT

    connection_id: str | None = None
    connection_name: str | None = None


@dataclass(frozen=True)
class DbtTransform:
    """A dbt project run after a source is published."""

    __pydantic_config__ = STRICT

    project_dir: str
    select: str | None = None


@dataclass(frozen=True)
class Transform:
    """A source's transformation after publishing: dbt, or a command."""

    __pydantic_config__ = STRICT

    dbt: DbtTransform | None = None
    command: list[str] | None = None


@dataclass(frozen=True)
class ConnectorTimeouts:
    """Seconds each connector command may take; ``read_idle``: longest time without
    output during ``read`` (keel.ingest.guard). The process group is killed after."""

    __pydantic_config__ = STRICT

    spec: Positive = 300
    check: Positive = 300
    discover: Positive = 900
    read: Positive = 86400
    read_idle: Positive = 900


@dataclass(frozen=True)
class ChangesTrigger:
    """``trigger: changes`` (issue 14): keel serve gates and publishes when rows landed."""

    __pydantic_config__ = STRICT

    min_rows: Annotated[int, Bound(ge=1)] = 1  # publish once this many rows are pending ...
    quiet: Annotated[float, Bound(ge=0)] = 2.0  # ... and none landed for this many seconds
    max_wait: Positive = 60.0  # pending rows never wait longer than this
    probe_every: Positive = 1.0  # seconds between two cheap probes


@dataclass(frozen=True)
class SourceSpec:
    """One of keel.yml's ``sources:``: trigger, schedule, connector and its settings."""

    __pydantic_config__ = STRICT

    description: str | None = None
    # webhook: Airbyte's notification runs the gate; changes: keel serve watches RAW
    trigger: Literal["webhook", "changes"] = "webhook"
    changes: ChangesTrigger = field(default_factory=ChangesTrigger)
    # every source is gated at least this often, whatever its trigger (a missed webhook,
    # a late row the probe did not see); 0 turns it off
    fallback_seconds: Annotated[float, Bound(ge=0)] = 900.0
    schedule: Schedule = "hourly"
    airbyte: AirbyteRef | None = None
    connector: str = "demo"
    config: dict[str, Any] = field(default_factory=dict)
    streams: list[str] | None = None
    transform: Transform | None = None
    timeouts: ConnectorTimeouts = field(default_factory=ConnectorTimeouts)


@dataclass(frozen=True)
class SlackAlerts(Spec):
    """Where Slack alerts go (an incoming webhook)."""

    __pydantic_config__ = STRICT
    SECRETS = ("webhook_url",)

    webhook_url: Secret | None = None


@dataclass(frozen=True)
class PagerDutyAlerts(Spec):
    """Where PagerDuty alerts go (Events API v2)."""

    __pydantic_config__ = STRICT
    SECRETS = ("routing_key",)

    routing_key: Secret | None = None
    events_url: str = "https://events.pagerduty.com/v2/enqueue"


@dataclass(frozen=True)
class ConsoleAlerts:
    """The local alert log (a JSON line per alert)."""

    __pydantic_config__ = STRICT

    path: str | None = ".keel/alerts.log"


@dataclass(frozen=True)
class Alerts:
    """``alerts:`` in keel.yml: every sink of the gate's alerts."""

    __pydantic_config__ = STRICT

    slack: SlackAlerts = field(default_factory=SlackAlerts)
    pagerduty: PagerDutyAlerts = field(default_factory=PagerDutyAlerts)
    console: ConsoleAlerts = field(default_factory=ConsoleAlerts)


@dataclass(frozen=True)
class AirbyteApi(Spec):
    """``airbyte:`` in keel.yml: the Airbyte API, its credentials and polling."""

    __pydantic_config__ = STRICT
    SECRETS = ("client_id", "client_secret", "token", "username", "password")

    api_url: str = "https://api.airbyte.com/v1"
    workspace_id: str | None = None
    client_id: Secret | None = None
    client_secret: Secret | None = None
    token: Secret | None = None
    username: Secret | None = None  # basic auth (self-hosted Airbyte)
    password: Secret | None = None
    poll_minutes: Annotated[int, Bound(ge=1, le=1440)] = 5
    timeout_seconds: Annotated[float, Bound(gt=0, le=600)] = 30.0
    retries: Annotated[int, Bound(ge=0, le=10)] = 4


@dataclass(frozen=True)
class Serve(Spec):
    """``serve:`` in keel.yml: the event service's public URL and token."""

    __pydantic_config__ = STRICT
    SECRETS = ("token",)

    public_url: str = "http://127.0.0.1:8787"
    token: Secret | None = None


@dataclass(frozen=True)
class Classification:
    """``classification:``: how many rows are sampled, what counts as long text."""

    __pydantic_config__ = STRICT

    sample_rows: Annotated[int, Bound(ge=0, le=10_000)] = 50
    long_text_chars: Annotated[int, Bound(ge=1)] = 200


@dataclass(frozen=True)
class ProjectFile:
    """``keel.yml``."""

    __pydantic_config__ = STRICT

    metadata_tag: MetadataTag
    version: Literal[1] = 1
    name: str = "keel"
    warehouse: Warehouse = field(default_factory=Warehouse)
    schemas: dict[str, SchemaSpec] = field(default_factory=dict)
    roles: dict[str, RoleSpec] = field(default_factory=dict)
    sources: dict[str, SourceSpec] = field(default_factory=dict)
    alerts: Alerts = field(default_factory=Alerts)
    airbyte: AirbyteApi | None = None
    serve: Serve = field(default_factory=Serve)
    classification: Classification = field(default_factory=Classification)
    vars: dict[str, Any] = field(default_factory=dict)  # dbt's var(): values for contracts' jinja
    dbt_project: str | None = None  # a dbt project whose sources files are the contracts


# ---- what contracts declare, kept by the loaded project ------------------------------


@dataclass(frozen=True)
class DataTest:
    """One data test, normalised from any of dbt's spellings."""

    __pydantic_config__ = STRICT

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    severity: Severity = "error"
    where: str | None = None
    column: str | None = None
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Freshness:
    """dbt's source freshness: warn / error after, an optional filter."""

    __pydantic_config__ = STRICT

    warn_after: dict[str, Any] | None = None
    error_after: dict[str, Any] | None = None
    filter: str | None = None


@dataclass(frozen=True)
class KeelMeta:
    """``meta.keel`` of a table: key, cursor, criticality, failure policy, lateness."""

    __pydantic_config__ = STRICT

    primary_key: list[str] = field(default_factory=list)  # one name is a list of one
    cursor: str | None = None
    critical: bool = False
    on_fail: OnFail = "block"
    deleted_at: str | None = None
    # how far before the watermark a gate still looks for rows committed late (issue 14)
    lookback_hours: Positive = 72.0
    # rows extracted in the last settle_seconds wait for the next batch (late commits)
    settle_seconds: Annotated[float, Bound(ge=0)] = 0.0
    # a promise about the loader: it commits every row within this many seconds of its
    # _AIRBYTE_EXTRACTED_AT (clock skew included); the read floor moves (docs/batches.md)
    max_lateness_seconds: Positive | None = None
    # rows whose _AIRBYTE_META.changes is not empty (a value the loader nulled or cut)
    on_meta_changes: OnMetaChanges = "warn"

    @property
    def wait_seconds(self) -> float:
        """How long ago a row must have been extracted for a batch to take it."""
        return max(self.settle_seconds, self.max_lateness_seconds or 0.0)


KEEL_META_KEYS = frozenset(f.name for f in fields(KeelMeta))
