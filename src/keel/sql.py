"""The one place where identifiers and literals become SQL text.

Every name and value that reaches a warehouse goes through :func:`quote`
(``ident`` and ``literal`` are its two spellings). Engines differ only in
details captured by :class:`Dialect`: Snowflake treats a backslash inside a
string literal as an escape, DuckDB and PostgreSQL (standard_conforming_strings)
do not. NUL characters are refused: no engine stores them in a name.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
from dataclasses import dataclass
from typing import Literal

Kind = Literal["ident", "literal"]


@dataclass(frozen=True)
class Dialect:
    """How one engine spells SQL text (its name; whether a literal escapes backslashes)."""

    name: str
    backslash_escapes: bool = False


DUCKDB = Dialect("duckdb")
POSTGRES = Dialect("postgres")
SNOWFLAKE = Dialect("snowflake", backslash_escapes=True)


def quote(value: object, kind: Kind, dialect: Dialect = DUCKDB) -> str:
    """Quote ``value`` as an identifier or a literal for ``dialect``."""
    if kind == "ident":
        if not isinstance(value, str) or not value:
            raise ValueError(f"an identifier must be a non-empty string, not {value!r}")
        if "\x00" in value:
            raise ValueError("an identifier cannot contain a NUL character")
        return '"' + value.replace('"', '""') + '"'
    if type(value) is not str:  # text, by far the most common literal, skips these checks
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float | decimal.Decimal):
            return repr(value) if not isinstance(value, decimal.Decimal) else str(value)
        if isinstance(value, _dt.datetime | _dt.date):
            value = value.isoformat()
        if isinstance(value, dict | list):
            value = json.dumps(value, separators=(",", ":"), sort_keys=True)
        if not isinstance(value, str):
            raise TypeError(f"cannot quote {type(value).__name__} as a SQL literal")
    if "\x00" in value:
        raise ValueError("a literal cannot contain a NUL character")
    text = value.replace("'", "''")
    if dialect.backslash_escapes:
        text = text.replace("\\", "\\\\")
    return "'" + text + "'"


def ident(name: str, dialect: Dialect = DUCKDB) -> str:
    return quote(name, "ident", dialect)


def literal(value: object, dialect: Dialect = DUCKDB) -> str:
    return quote(value, "literal", dialect)


def qualified(*parts: str, dialect: Dialect = DUCKDB) -> str:
    """``"DB"."SCHEMA"."TABLE"`` from its parts, each quoted."""
    return ".".join(quote(p, "ident", dialect) for p in parts)


def idents(names: list[str] | tuple[str, ...], dialect: Dialect = DUCKDB) -> str:
    return ", ".join(quote(n, "ident", dialect) for n in names)


def literals(values: list[object] | tuple[object, ...], dialect: Dialect = DUCKDB) -> str:
    return ", ".join(quote(v, "literal", dialect) for v in values)
