"""From a stream's JSON schema to typed RAW columns, and from records to Arrow.

Airbyte's Snowflake destination lands an Append + Deduped stream as one typed
table: column names upper case, ``integer`` -> NUMBER, ``number`` -> FLOAT,
``string`` with ``format: date-time`` -> TIMESTAMP_TZ, ``format: date`` -> DATE,
``boolean`` -> BOOLEAN, ``object``/``array``/unions -> VARIANT, anything else
-> VARCHAR. keel uses the same mapping with portable type names (``JSON`` for
VARIANT); each engine renders them (see :mod:`keel.adapters.raw`).

Invariants:

- A column's type only ever widens (:func:`widen`): BIGINT -> DOUBLE ->
  VARCHAR, DATE -> TIMESTAMP(TZ) -> VARCHAR; JSON and BOOLEAN widen to
  VARCHAR. A table is never narrowed because a schema says less than it did.
- Values are handed to the engine as Arrow arrays of the closest Arrow type
  (int64, float64, bool, string). Dates, timestamps and JSON travel as strings
  and are cast by the engine, so parsing happens in vectorised SQL, not Python.
  A column whose values do not fit the fast Arrow type falls back to strings,
  and the engine's cast decides (and names the field when it cannot).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa

# the portable types and Airbyte's columns, declared where each engine renders them
from keel.adapters.raw import (
    AIRBYTE_COLUMNS as AIRBYTE_COLUMNS,
)
from keel.adapters.raw import (
    BIGINT as BIGINT,
)
from keel.adapters.raw import (
    BOOLEAN as BOOLEAN,
)
from keel.adapters.raw import (
    DATE as DATE,
)
from keel.adapters.raw import (
    DOUBLE as DOUBLE,
)
from keel.adapters.raw import (
    EXTRACTED_AT as EXTRACTED_AT,
)
from keel.adapters.raw import (
    GENERATION_ID as GENERATION_ID,
)
from keel.adapters.raw import (
    JSON as JSON,
)
from keel.adapters.raw import (
    META as META,
)
from keel.adapters.raw import (
    RAW_ID as RAW_ID,
)
from keel.adapters.raw import (
    TIMESTAMP as TIMESTAMP,
)
from keel.adapters.raw import (
    TIMESTAMPTZ as TIMESTAMPTZ,
)
from keel.adapters.raw import (
    TYPES as TYPES,
)
from keel.adapters.raw import (
    VARCHAR as VARCHAR,
)
from keel.errors import IngestError

AIRBYTE_COLUMN_NAMES = frozenset(name for name, _ in AIRBYTE_COLUMNS)


@dataclass(frozen=True)
class Column:
    """One source property and the RAW column it lands in."""

    name: str  # the property name as the source spells it
    canonical: str  # the column name in the warehouse (upper case)
    type: str  # one of TYPES


def canonical(name: str) -> str:
    """The warehouse spelling of a stream, schema or column name (Snowflake: upper case)."""
    return name.upper()


def property_type(prop: object) -> str:
    """The portable column type for one JSON-schema property."""
    if not isinstance(prop, Mapping):
        return JSON
    raw = prop.get("type")
    types = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, list) else []
    non_null = [t for t in types if t != "null"]
    if not non_null:
        options = prop.get("anyOf") or prop.get("oneOf")
        if isinstance(options, list) and options:
            kinds = {property_type(o) for o in options if _not_null_schema(o)}
            if len(kinds) == 1:
                return kinds.pop()
        return JSON
    if len(non_null) > 1:
        return DOUBLE if set(non_null) <= {"integer", "number"} else JSON
    kind, airbyte_type = non_null[0], prop.get("airbyte_type")
    if kind == "string":
        fmt = prop.get("format")
        if fmt == "date-time":
            return TIMESTAMP if airbyte_type == "timestamp_without_timezone" else TIMESTAMPTZ
        return DATE if fmt == "date" else VARCHAR
    if kind == "integer":
        return BIGINT
    if kind == "number":
        return BIGINT if airbyte_type == "integer" else DOUBLE
    if kind == "boolean":
        return BOOLEAN
    if kind in ("object", "array"):
        return JSON
    return VARCHAR


def _not_null_schema(option: object) -> bool:
    return not (isinstance(option, Mapping) and option.get("type") == "null")


def columns_from_schema(json_schema: Mapping[str, Any]) -> list[Column]:
    """The typed columns of a stream, in the schema's property order."""
    props = json_schema.get("properties") or {}
    return [Column(name, canonical(name), property_type(p)) for name, p in props.items()]


def value_type(value: object) -> str | None:
    """The column type a single JSON value suggests (for properties not in the schema)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return BIGINT
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, dict | list):
        return JSON
    return VARCHAR


def infer_type(values: Iterable[object]) -> str:
    """The narrowest type that holds every value (VARCHAR when all are null)."""
    result: str | None = None
    for v in values:
        t = value_type(v)
        if t is not None:
            result = t if result is None else widen(result, t)
    return result or VARCHAR


def widen(existing: str, wanted: str) -> str:
    """The narrowest type that holds both; never narrower than ``existing``."""
    if existing == wanted:
        return existing
    pair = {existing, wanted}
    if pair == {BIGINT, DOUBLE}:
        return DOUBLE
    if pair <= {DATE, TIMESTAMP, TIMESTAMPTZ}:
        return TIMESTAMPTZ if TIMESTAMPTZ in pair else TIMESTAMP
    return VARCHAR


_FAST: dict[str, pa.DataType] = {
    BIGINT: pa.int64(),
    DOUBLE: pa.float64(),
    BOOLEAN: pa.bool_(),
}


def to_arrow(values: Sequence[object], column_type: str) -> pa.Array:
    """One column of a batch as an Arrow array the engine can cast to ``column_type``.

    BIGINT, DOUBLE and BOOLEAN try the native Arrow type first; strings are
    kept as they are; JSON values are serialised. Whatever does not convert
    goes as text, so a bad value surfaces as a cast error naming the field.
    """
    if column_type == JSON:
        return pa.array([_json_text(v) for v in values], pa.string())
    fast = _FAST.get(column_type)
    if fast is not None:
        try:
            return pa.array(values, fast)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            pass
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([_text(v) for v in values], pa.string())


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value).decode()


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def arrow_batch(
    records: Sequence[Mapping[str, Any]], columns: Sequence[Column], seq: str
) -> pa.Table:
    """The records as an Arrow table: column ``c<i>`` for ``columns[i]``, then ``seq``
    (the arrival order, which breaks ties between versions of a key)."""
    arrays = [to_arrow([r.get(c.name) for r in records], c.type) for c in columns]
    arrays.append(pa.array(range(len(records)), pa.int64()))
    names = [f"c{i}" for i in range(len(columns))] + [seq]
    return pa.Table.from_arrays(arrays, names=names)


def check_names(stream: str, canonical_names: Sequence[str]) -> None:
    """Refuse two properties landing in one column, or in one of Airbyte's."""
    seen: set[str] = set()
    for name in canonical_names:
        if name in seen or name in AIRBYTE_COLUMN_NAMES:
            raise IngestError(
                f"stream {stream!r}: two properties land in the same column {name!r} "
                "(names are upper-cased, and _AIRBYTE_* columns are reserved)"
            )
        seen.add(name)
