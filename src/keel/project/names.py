"""Names checked before anything runs: reserved, too long, empty, or colliding.

Every name keel sends to a warehouse is quoted (:mod:`keel.sql`), so a hostile name
cannot inject SQL; but an engine can still change what it means. This module refuses,
at load time and with the file, line and object, the names that would otherwise fail
late with an "internal error" or silently mean something else:

* empty names, names of only spaces, names holding a NUL or another control character;
* reserved roles: ``PUBLIC`` (every engine: granting to it grants to everyone) as a
  role name or a grantee; Snowflake's system roles (``ACCOUNTADMIN``, ``ORGADMIN``,
  ``SECURITYADMIN``, ``SYSADMIN``, ``USERADMIN``, ``GLOBALORGADMIN``) as role names
  keel would create (granting a keel role *to* ``SYSADMIN`` is Snowflake's advice and
  stays allowed); PostgreSQL's ``pg_`` prefix (reserved for system roles and schemas)
  and its role keywords (``CURRENT_USER``, ``SESSION_USER``, ``CURRENT_ROLE``, ``NONE``);
* identifiers over the engine's limit, with the limit named: PostgreSQL uses at most
  NAMEDATALEN-1 = 63 *bytes* and truncates the rest (the plan would never converge);
  Snowflake allows 255 characters; DuckDB documents no limit;
* names that collide once the engine folds them: keel's canonical names are upper
  case, PostgreSQL folds to lower case and DuckDB resolves names case-insensitively,
  so ``dupe_schema`` and ``DUPE_SCHEMA`` are one schema; Unicode compatibility forms
  and case folding (NFKC + casefold) make ``strasse`` and ``straße`` one too. Both
  names are given.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from keel.errors import Problem
from keel.project.yamlio import line_at

PROJECT_FILE = "keel.yml"
LIMITS: dict[str, tuple[int, str] | None] = {
    "postgres": (63, "bytes"),  # NAMEDATALEN - 1; longer names are truncated
    "snowflake": (255, "characters"),
    "duckdb": None,
}
RESERVED_ROLES = {
    "duckdb": {"PUBLIC"},
    "postgres": {"PUBLIC", "CURRENT_USER", "SESSION_USER", "CURRENT_ROLE", "NONE"},
    "snowflake": {
        "PUBLIC",
        "ACCOUNTADMIN",
        "ORGADMIN",
        "GLOBALORGADMIN",
        "SECURITYADMIN",
        "SYSADMIN",
        "USERADMIN",
    },
}
RESERVED_PREFIX = {"postgres": "PG_"}


def fold(name: str) -> str:
    """The key two names collide on: Unicode compatibility form, case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def check_names(spec: Any, raw: Any, streams: Mapping[str, Any]) -> list[Problem]:
    """Problems with the names of ``spec`` (the parsed keel.yml), ``raw`` (its YAML with
    line numbers) and ``streams`` (loader ``Stream`` values), for the project's engine."""
    engine = spec.warehouse.engine
    out: list[Problem] = []

    def at(*loc: int | str) -> int | None:
        return line_at(raw, list(loc))

    schemas: list[tuple[str, str, int | None, str]] = []  # (name, what, line, file)
    for name in spec.schemas:
        schemas.append((name, f"schema {name!r}", at("schemas", name), PROJECT_FILE))
    declared = {n.upper() for n in spec.schemas}
    for source in spec.sources:
        for suffix in ("_DATA", "_DATA_RAW"):
            derived = f"{source.upper()}{suffix}"
            if derived in declared:
                continue  # the same schema, declared with its settings
            declared.add(derived)
            what = f"schema {derived} (of source {source!r})"
            schemas.append((derived, what, at("sources", source), PROJECT_FILE))
    for name, what, line, file in schemas:
        out += _one(name, what, file, line, engine)
    out += _collisions(schemas, "schemas")

    roles = [(r, f"role {r!r}", at("roles", r), PROJECT_FILE) for r in spec.roles]
    for name, what, line, file in roles:
        out += _one(name, what, file, line, engine)
        out += _reserved_role(name, what, file, line, engine)
    out += _collisions(roles, "roles")
    for role, rs in spec.roles.items():
        for i, grantee in enumerate(rs.granted_to):
            what = f"role {role!r}: granted_to {grantee!r}"
            line = at("roles", role, "granted_to", i)
            out += _one(grantee, what, PROJECT_FILE, line, engine)
            if grantee.strip().upper() == "PUBLIC" or _pg_reserved(grantee, engine):
                out.append(
                    Problem(
                        PROJECT_FILE,
                        line,
                        f"{what}: {grantee} is a reserved role"
                        + (" (granting to it grants to every user)" if _is_public(grantee) else ""),
                        "name a role keel or your administrator manages",
                    )
                )
    out += _one(
        spec.metadata_tag.name, "metadata_tag.name", PROJECT_FILE, at("metadata_tag"), engine
    )

    tables: dict[str, list[tuple[str, str, int | None, str]]] = {}
    for stream in streams.values():
        what = f"table {stream.key}"
        out += _one(stream.table, what, stream.file, stream.line, engine)
        if stream.raw_schema.upper() not in declared:
            out += _one(stream.raw_schema, f"{what}: schema", stream.file, stream.line, engine)
        tables.setdefault(stream.raw_schema, []).append(
            (stream.table, what, stream.line, stream.file)
        )
        columns = [
            (c.name, f"{what}: column {c.name.lower()!r}", c.line, stream.file)
            for c in stream.columns
        ]
        for name, cwhat, line, file in columns:
            out += _one(name, cwhat, file, line, engine)
        out += _collisions(columns, f"columns of {stream.key}")
    for schema, found in tables.items():
        out += _collisions(found, f"tables of {schema}")
    return out


def _is_public(name: str) -> bool:
    return name.strip().upper() == "PUBLIC"


def _pg_reserved(name: str, engine: str) -> bool:
    prefix = RESERVED_PREFIX.get(engine)
    return prefix is not None and name.upper().startswith(prefix)


def _one(name: str, what: str, file: str, line: int | None, engine: str) -> list[Problem]:
    if not isinstance(name, str) or not name.strip():
        return [Problem(file, line, f"{what}: the name is empty")]
    bad = next((ch for ch in name if unicodedata.category(ch) == "Cc"), None)
    if bad is not None:
        kind = "a NUL character" if bad == "\x00" else f"control character U+{ord(bad):04X}"
        return [Problem(file, line, f"{what}: the name contains {kind}")]
    if name != name.strip():
        return [Problem(file, line, f"{what}: the name starts or ends with a space")]
    limit = LIMITS.get(engine)
    if limit is not None:
        size = len(name.encode("utf-8")) if limit[1] == "bytes" else len(name)
        if size > limit[0]:
            return [
                Problem(
                    file,
                    line,
                    f"{what}: the name is {size} {limit[1]} long, over {engine}'s limit of "
                    f"{limit[0]} {limit[1]}",
                    "shorten it"
                    + (": PostgreSQL would silently truncate it" if engine == "postgres" else ""),
                )
            ]
    return []


def _reserved_role(name: str, what: str, file: str, line: int | None, engine: str) -> list[Problem]:
    upper = name.strip().upper()
    reserved = RESERVED_ROLES["snowflake"]
    if upper in RESERVED_ROLES.get(engine, set()) or _pg_reserved(name, engine):
        return [Problem(file, line, f"{what}: {name} is a reserved role name on {engine}")]
    if upper in reserved:  # a Snowflake system role declared on another engine: not portable
        return [Problem(file, line, f"{what}: {name} is a reserved role name on snowflake")]
    return []


def _collisions(items: Iterable[tuple[str, str, int | None, str]], kind: str) -> list[Problem]:
    seen: dict[str, tuple[str, str, int | None, str]] = {}
    out: list[Problem] = []
    for item in items:
        name, what, line, file = item
        if not isinstance(name, str) or not name.strip():
            continue
        key = fold(name)
        first = seen.get(key)
        if first is None:
            seen[key] = item
            continue
        where = f"{first[3]}:{first[2]}" if first[2] else first[3]
        if first[0] == name:
            out.append(Problem(file, line, f"{what} is declared twice (also at {where})"))
            continue
        out.append(
            Problem(
                file,
                line,
                f"{what} and {first[1]} ({where}) are the same name once the engine folds "
                f"case and Unicode ({kind} would merge)",
                "rename one of them",
            )
        )
    return out
