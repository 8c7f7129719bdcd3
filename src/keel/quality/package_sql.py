"""SQL for the dbt package tests keel runs inside its one scan (dbt_utils, dbt_expectations).

Each follows the package's own macro (dbt-utils ``macros/generic_tests/*.sql``,
dbt-expectations ``macros/schema_tests/**``), judged on the table as it will be
after the MERGE, like keel's other checks:

- ``not_accepted_values`` (dbt_utils): fails on values in the list; NULL is never
  in the list, so null rows pass; dbt counts distinct values.
- ``expect_column_values_to_be_between`` (dbt_expectations): ``min <= v <= max``
  (``strictly``: ``<``), wrapped in ``not (...)``: a NULL value gives NULL, so it
  passes; ``row_condition`` filters rows (keel folds it into ``where``).
- ``expect_column_values_to_match_regex``: the value must *contain* a match
  (``regexp_instr(...) > 0``, search semantics); NULL passes.
- ``expect_column_values_to_be_unique``: ``group by`` the value ``having count(*) > 1``
  with no null filter: two NULLs are a duplicate (unlike dbt's ``unique``).
- ``unique_combination_of_columns`` (dbt_utils): ``group by`` the columns ``having
  count(*) > 1``; NULLs group together, so repeated NULL combinations fail too;
  dbt counts the duplicated combinations.
- ``relationships_where`` (dbt_utils): child rows with a non-null value and
  ``from_condition``, missing from the parent's non-null ``field`` rows that meet
  ``to_condition``.
- ``not_null_proportion`` (dbt_utils): non-null rows / all rows must lie in
  ``[at_least, at_most]`` (``at_most`` defaults to 1); an empty table returns no row.
- ``recency`` (dbt_utils): ``max(field) < now - interval datepart`` fails; an empty
  table (max is NULL) passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keel.batch.window import keys_equal
from keel.quality.checks import Check

if TYPE_CHECKING:
    from keel.quality.scan import ScanBuilder

DUP_NULL_SAFE = frozenset({"expect_column_values_to_be_unique", "unique_combination_of_columns"})
M = "__KEEL_M"


def dup_columns(check: Check) -> list[str]:
    if check.name == "unique_combination_of_columns":
        return [str(c).upper() for c in check.args.get("combination_of_columns", [])]
    return [check.column or ""]


def _v(i: int) -> str:
    return f"__KEEL_V{i}"


def dup_cte(sb: ScanBuilder, check: Check) -> str:
    """The value combinations duplicated in the table as it will be (NULLs grouping
    together), restricted to combinations the live batch carries."""
    a, lay, B = sb.a, sb.layout, "__KEEL_B"
    cols = dup_columns(check)
    w = sb._and_where(check.where)
    vs = ", ".join(a.ident(_v(i)) for i in range(len(cols)))
    parts = [
        f"SELECT {', '.join(f'{a.ident(c)} AS {a.ident(_v(i))}' for i, c in enumerate(cols))} "
        f"FROM {a.ident(B)} WHERE {sb.live(B)}{w}"
    ]
    if all(sb._promoted_has(c) for c in cols) and all(sb._promoted_has(k) for k in lay.keys):
        p, b2, b3 = "__KEEL_P", "__KEEL_B2", "__KEEL_B3"
        same = " AND ".join(f"{sb.col(b3, c)} IS NOT DISTINCT FROM {sb.col(p, c)}" for c in cols)
        parts.append(
            f"SELECT {', '.join(sb.col(p, c) for c in cols)} FROM {a.ident(*lay.data)} "
            f"AS {a.ident(p)} WHERE 1 = 1{w} AND NOT EXISTS (SELECT 1 FROM {a.ident(B)} AS "
            f"{a.ident(b2)} WHERE {sb.col(b2, '__KEEL_WIN')} = 1 AND {keys_equal(a, lay, b2, p)}) "
            f"AND EXISTS (SELECT 1 FROM {a.ident(B)} AS {a.ident(b3)} WHERE {sb.live(b3)} AND {same})"
        )
    union = " UNION ALL ".join(parts)
    return (
        f"SELECT {vs}, 1 AS {a.ident(M)} FROM ({union}) AS {a.ident('__KEEL_UV')} "
        f"GROUP BY {vs} HAVING COUNT(*) > 1"
    )


def dup_join(sb: ScanBuilder, check: Check, alias: str) -> str:
    on = " AND ".join(
        f"{sb.col('__KEEL_B', c)} IS NOT DISTINCT FROM {sb.col(alias, _v(i))}"
        for i, c in enumerate(dup_columns(check))
    )
    return f" LEFT JOIN {sb.a.ident(alias)} ON {on}"


def regex_sql(sb: ScanBuilder, column_sql: str, pattern: str, flags: str) -> str:
    """True when the value contains a match, in the engine's own function:
    DuckDB ``regexp_matches(s, p[, 'i'])`` (partial match), PostgreSQL ``s ~ p`` /
    ``~*`` (POSIX, partial), Snowflake ``REGEXP_INSTR(s, p, 1, 1, 0, 'i') > 0``."""
    a = sb.a
    text = f"CAST({column_sql} AS VARCHAR)"
    name = a.dialect.name
    if name == "postgres":
        return f"{text} {'~*' if flags == 'i' else '~'} {a.lit(pattern)}"
    if name == "snowflake":
        return f"REGEXP_INSTR({text}, {a.lit(pattern)}, 1, 1, 0, {a.lit(flags or 'c')}) > 0"
    extra = f", {a.lit('i')}" if flags == "i" else ""
    return f"regexp_matches({text}, {a.lit(pattern)}{extra})"


def predicate(sb: ScanBuilder, check: Check) -> str | None:
    """SQL true when a live row violates a package check (None: not one of them)."""
    a, args = sb.a, check.args
    c = sb.col("__KEEL_B", check.column) if check.column else ""
    if check.name == "not_accepted_values":
        quote = args.get("quote", True) is not False
        values = ", ".join(a.lit(str(v) if quote else v) for v in args.get("values", []))
        return f"{c} IN ({values})" if values else None
    if check.name == "expect_column_values_to_be_between":
        strict = args.get("strictly") is True
        parts = ["1 = 1"]
        for key, op in (
            ("min_value", ">" if strict else ">="),
            ("max_value", "<" if strict else "<="),
        ):
            if args.get(key) is not None:
                parts.append(f"{c} {op} {sb._bound(args[key])}")
        return f"NOT ({' AND '.join(parts)})"
    if check.name == "expect_column_values_to_match_regex":
        return f"NOT ({regex_sql(sb, c, str(args.get('regex')), str(args.get('flags') or ''))})"
    if check.name in DUP_NULL_SAFE:
        return f"{sb.col(sb.alias(check), M)} IS NOT NULL"
    return None


def table_slots(sb: ScanBuilder, check: Check, live: str) -> list[tuple[str, str]]:
    """The aggregate values of a table-level package check."""
    a, F = sb.a, "__KEEL_F"
    if check.name == "not_null_proportion":
        c = a.ident(check.column or "")
        return [
            (f"{check.id}:total", sb._table_count(check, live, None)),
            (f"{check.id}:nonnull", sb._table_count(check, live, f"{c} IS NOT NULL")),
        ]
    if check.name == "recency":
        col = check.column or ""
        w = sb._and_where(check.where)
        out = [(f"{check.id}:batch", f"MAX(CASE WHEN {live}{w} THEN {sb.col(F, col)} END)")]
        if sb._promoted_has(col):
            where = f" WHERE {check.where}" if check.where else ""
            out.append(
                (
                    f"{check.id}:promoted",
                    f"(SELECT MAX({a.ident(col)}) FROM {a.ident(*sb.layout.data)}{where})",
                )
            )
        return out
    return []
