"""Checks -> SQL: one aggregate statement per stream, plus the sample and quarantine reads.

Every statement here starts from the same chain of common table expressions,
so they all judge the same rows:

``__KEEL_D``  the batch deduplicated by key (:func:`keel.batch.window.dedup_sql`);
``__KEEL_B``  each batch row, ``__KEEL_OLD`` = 1 when the promoted table has its key and
              ``__KEEL_WIN`` = 1 when it will replace that row (or the key is new);
``__KEEL_Un`` per ``unique`` check: the values duplicated in the table *as it will be*
              (live batch rows plus the promoted rows the batch does not replace),
              restricted to values the batch carries;
``__KEEL_Kn`` per ``relationships`` check: the parent's keys as they will be;
``__KEEL_F``  the rows, each check's violation flag (0/1) next to them.

A row is *live* when it wins and is not a delete: only live rows reach the
promoted table, so only they are judged (checks see the table after the MERGE).
Flags are integers, never NULL, so ``SUM`` counts failing rows and the
quarantine reads "any error flag set". Contract SQL (``where``, ``expression``,
range bounds) is embedded in parentheses as rendered by :mod:`keel.project.fragments`
after it parsed and checked it; everything else is quoted by the adapter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from keel.adapters.base import Adapter
from keel.batch.window import (
    DEL,
    EXTRACTED_AT,
    OLD,
    WIN,
    Layout,
    N,
    Window,
    dedup_parts,
    deleted_sql,
    keys_equal,
    relation_sql,
    window_sql,
    wins_sql,
)
from keel.quality import package_sql
from keel.quality.checks import META_CHANGES, Check

D, B, F = "__KEEL_D", "__KEEL_B", "__KEEL_F"
MASK = "***"


@dataclass(frozen=True)
class ParentRef:
    """Where a relationships check finds the parent's keys: the promoted parent table
    (when it exists) and, when the parent's own pending batch will be published first,
    that batch's window of the parent's RAW table."""

    field: str
    promoted: tuple[str, str] | None
    pending: Layout | None = None
    pending_window: Window | None = None


@dataclass(frozen=True)
class Scan:
    """The single query that evaluates every check, and the name of each value it returns."""

    sql: str
    slots: tuple[str, ...]  # the name of each selected value, in order

    def decode(self, row: Sequence[object]) -> dict[str, object]:
        return dict(zip(self.slots, row, strict=True))


def flag(i: int) -> str:
    return f"__KEEL_F{i}"


def pk_unique(check: Check, layout: Layout) -> bool:
    """``unique`` on the whole primary key holds by construction (one row per key)."""
    return check.name == "unique" and layout.keys == (check.column,)


class ScanBuilder:
    """Builds the statements for one stream's batch; holds no state between calls."""

    def __init__(
        self,
        adapter: Adapter,
        layout: Layout,
        window: Window,
        checks: Sequence[Check],
        parents: Mapping[str, ParentRef] | None = None,
    ):
        self.a = adapter
        self.layout = layout
        self.window = window
        self.checks = list(checks)
        self.parents = dict(parents or {})
        self.promoted = dict(layout.promoted) if layout.promoted is not None else None

    # ---- pieces -------------------------------------------------------------------------

    def col(self, alias: str, column: str) -> str:
        return self.a.ident(alias, column)

    def live(self, alias: str = B) -> str:
        return f"{self.col(alias, WIN)} = 1 AND {self.col(alias, DEL)} = 0"

    def _promoted_has(self, column: str) -> bool:
        return self.promoted is not None and column in self.promoted

    def _b_cte(self) -> str:
        a, lay = self.a, self.layout
        if self.promoted is None:
            return (
                f"SELECT {a.ident(D)}.*, 0 AS {a.ident(OLD)}, 1 AS {a.ident(WIN)} FROM {a.ident(D)}"
            )
        order_col = lay.cursor or EXTRACTED_AT
        order = a.ident(order_col) if self._promoted_has(order_col) else "NULL"
        keys = ", ".join(a.ident(k) for k in lay.keys)
        if order_col not in lay.keys:
            keys += f", {order} AS {a.ident(order_col)}"
        p = "__KEEL_P"
        first = self.col(p, lay.keys[0])
        return (
            f"SELECT {a.ident(D)}.*, CASE WHEN {first} IS NULL THEN 0 ELSE 1 END AS {a.ident(OLD)}, "
            f"CASE WHEN {first} IS NULL OR {wins_sql(a, lay, D, p)} THEN 1 ELSE 0 END "
            f"AS {a.ident(WIN)} FROM {a.ident(D)} LEFT JOIN (SELECT {keys} "
            f"FROM {a.ident(*lay.data)}) AS {a.ident(p)} "
            f"ON {keys_equal(a, lay, D, p)}"
        )

    @staticmethod
    def _and_where(where: str | None) -> str:
        return f" AND ({where})" if where else ""

    def _unique_cte(self, check: Check) -> str:
        a, lay, c = self.a, self.layout, check.column or ""
        w = self._and_where(check.where)
        v = a.ident("__KEEL_V")
        parts = [
            f"SELECT {a.ident(c)} AS {v} FROM {a.ident(B)} WHERE {self.live(B)} "
            f"AND {a.ident(c)} IS NOT NULL{w}"
        ]
        if self._promoted_has(c) and all(self._promoted_has(k) for k in lay.keys):
            p, b2 = "__KEEL_P", "__KEEL_B2"
            parts.append(
                f"SELECT {self.col(p, c)} FROM {a.ident(*lay.data)} AS {a.ident(p)} "
                f"WHERE {self.col(p, c)} IS NOT NULL{w} AND {self.col(p, c)} IN "
                f"(SELECT {a.ident(c)} FROM {a.ident(B)} WHERE {self.live(B)}) AND NOT EXISTS "
                f"(SELECT 1 FROM {a.ident(B)} AS {a.ident(b2)} WHERE {self.col(b2, WIN)} = 1 "
                f"AND {keys_equal(a, lay, b2, p)})"
            )
        union = " UNION ALL ".join(parts)
        return (
            f"SELECT {v} FROM ({union}) AS {a.ident('__KEEL_UV')} GROUP BY {v} HAVING COUNT(*) > 1"
        )

    def _parent_cte(self, check: Check) -> str:
        a = self.a
        ref = self.parents.get(check.id)
        k = a.ident("__KEEL_K")
        parts: list[str] = []
        # dbt_utils.relationships_where: only parent rows meeting to_condition count
        to = self._and_where(check.args.get("to_condition"))
        if ref is not None:
            f = a.ident(ref.field)
            if ref.promoted is not None:
                parts.append(
                    f"SELECT {f} AS {k} FROM {a.ident(*ref.promoted)} WHERE {f} IS NOT NULL{to}"
                )
            if ref.pending is not None and ref.pending_window is not None:
                parts.append(
                    f"SELECT {f} AS {k} FROM "
                    f"{relation_sql(a, ref.pending.raw, ref.pending_window)} WHERE "
                    f"{window_sql(a, ref.pending_window)} AND {f} IS NOT NULL{to} "
                    f"AND {deleted_sql(a, ref.pending)} = 0"
                )
        if not parts:  # no parent yet: an empty key set of the child column's type
            kind = dict(self.layout.columns).get(check.column or "", "VARCHAR")
            return f"SELECT CAST(NULL AS {kind}) AS {k} WHERE 1 = 0"
        return " UNION ".join(parts)

    def _predicate(self, check: Check) -> str | None:
        """SQL true when a live row violates ``check`` (None: not a row-level check)."""
        a, c = self.a, self.col(B, check.column) if check.column else ""
        args = check.args
        package = package_sql.predicate(self, check)
        if package is not None:
            return package
        if check.name == "not_null":
            return f"{c} IS NULL"
        if check.name == "unique":
            if pk_unique(check, self.layout):
                return None
            return f"{self.col(self.alias(check), '__KEEL_V')} IS NOT NULL"
        if check.name == "accepted_values":
            quote = args.get("quote", True) is not False
            values = (
                ", ".join(a.lit(str(v) if quote else v) for v in args.get("values", [])) or "NULL"
            )
            return f"{c} IS NOT NULL AND {c} NOT IN ({values})"
        if check.name == "accepted_range":
            inclusive = args.get("inclusive", True) is not False
            parts = []
            for key, op in (
                ("min_value", ">=" if inclusive else ">"),
                ("max_value", "<=" if inclusive else "<"),
            ):
                if args.get(key) is not None:
                    parts.append(f"{c} {op} {self._bound(args[key])}")
            return f"NOT ({' AND '.join(parts)})"
        if check.name == "expression":
            if "expression_sql" in args:  # checked and rendered by keel.project.fragments
                return f"NOT ({args['expression_sql']})"
            expr = str(args.get("expression"))
            return f"NOT ({c} {expr})" if check.column else f"NOT ({expr})"
        if check.name == "relationships":
            frm = self._and_where(args.get("from_condition"))
            return f"{c} IS NOT NULL{frm} AND {self.col(self.alias(check), '__KEEL_K')} IS NULL"
        if check.name == META_CHANGES:
            return a.meta_changes_sql(c)
        return None

    def _bound(self, value: object) -> str:
        if isinstance(value, str):
            return f"({value})"  # dbt_utils renders bounds as SQL; keel.project.fragments
        return self.a.lit(value)

    def alias(self, check: Check) -> str:
        return f"__KEEL_X{self.checks.index(check)}"

    # ---- statements ---------------------------------------------------------------------

    def ctes(self) -> str:
        a = self.a
        dup, body = dedup_parts(a, self.layout, self.window)
        parts = [dup, (D, body), (B, self._b_cte())]
        joins = []
        flags = []
        for i, check in enumerate(self.checks):
            x = self.alias(check)
            if check.name == "unique" and not pk_unique(check, self.layout):
                parts.append((x, self._unique_cte(check)))
                joins.append(
                    f" LEFT JOIN {a.ident(x)} ON {self.col(B, check.column or '')} = "
                    f"{self.col(x, '__KEEL_V')}"
                )
            elif check.name in package_sql.DUP_NULL_SAFE:
                parts.append((x, package_sql.dup_cte(self, check)))
                joins.append(package_sql.dup_join(self, check, x))
            elif check.name == "relationships":
                parts.append((x, self._parent_cte(check)))
                joins.append(
                    f" LEFT JOIN {a.ident(x)} ON {self.col(B, check.column or '')} = "
                    f"{self.col(x, '__KEEL_K')}"
                )
            pred = self._predicate(check)
            if pred is not None:
                flags.append(
                    f"CASE WHEN {self.live(B)}{self._and_where(check.where)} AND ({pred}) "
                    f"THEN 1 ELSE 0 END AS {a.ident(flag(i))}"
                )
        select = ", ".join([f"{a.ident(B)}.*", *flags])
        parts.append((F, f"SELECT {select} FROM {a.ident(B)}{''.join(joins)}"))
        return "WITH " + ", ".join(f"{a.ident(name)} AS ({sql})" for name, sql in parts)

    def aggregate(self) -> Scan:
        """The one scan: batch counts and every check's numbers, in one statement."""
        a, f = self.a, F
        live = f"{self.col(f, WIN)} = 1 AND {self.col(f, DEL)} = 0"
        slots: list[tuple[str, str]] = [
            ("keys", "COUNT(*)"),
            ("raw_rows", f"COALESCE(SUM({self.col(f, N)}), 0)"),
            ("live", f"COALESCE(SUM(CASE WHEN {live} THEN 1 ELSE 0 END), 0)"),
            ("deleted", self._sum(f"{self.col(f, WIN)} = 1 AND {self.col(f, DEL)} = 1")),
            ("stale", self._sum(f"{self.col(f, WIN)} = 0")),
            ("new", self._sum(f"{live} AND {self.col(f, OLD)} = 0")),
            (
                "gone",
                self._sum(
                    f"{self.col(f, WIN)} = 1 AND {self.col(f, DEL)} = 1 AND {self.col(f, OLD)} = 1"
                ),
            ),
        ]
        for i, check in enumerate(self.checks):
            c = self.col(f, check.column) if check.column else ""
            if self._predicate(check) is not None:
                slots.append((f"{check.id}:rows", f"COALESCE(SUM({self.col(f, flag(i))}), 0)"))
                if check.name in (
                    "accepted_values",
                    "unique",
                    "relationships",
                    "not_accepted_values",
                ):
                    slots.append(
                        (
                            f"{check.id}:values",
                            f"COUNT(DISTINCT CASE WHEN {self.col(f, flag(i))} = 1 THEN {c} END)",
                        )
                    )
                elif check.name in package_sql.DUP_NULL_SAFE:
                    x = a.ident(self.alias(check))
                    slots.append((f"{check.id}:values", f"(SELECT COUNT(*) FROM {x})"))
            elif check.name in ("not_null_proportion", "recency"):
                slots += package_sql.table_slots(self, check, live)
            elif check.name == "row_count":
                slots.append((f"{check.id}:count", self._row_count(check, live)))
            elif check.name == "freshness":
                w = self._and_where(check.where)
                slots.append((f"{check.id}:batch", f"MAX(CASE WHEN {live}{w} THEN {c} END)"))
                if self._promoted_has(check.column or ""):
                    where = f" WHERE {check.where}" if check.where else ""
                    slots.append(
                        (
                            f"{check.id}:promoted",
                            f"(SELECT MAX({a.ident(check.column or '')}) FROM "
                            f"{a.ident(*self.layout.data)}{where})",
                        )
                    )
        bad = [
            self.col(f, flag(i))
            for i, c in enumerate(self.checks)
            if c.blocking and self._predicate(c) is not None
        ]
        if bad:
            slots.append(("bad_rows", self._sum(f"{' + '.join(bad)} > 0")))
        select = ", ".join(sql for _, sql in slots)
        return Scan(f"{self.ctes()} SELECT {select} FROM {a.ident(f)}", tuple(n for n, _ in slots))

    def _sum(self, cond: str) -> str:
        return f"COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0)"

    def _row_count(self, check: Check, live: str) -> str:
        return self._table_count(check, live, None)

    def _table_count(self, check: Check, live: str, extra: str | None) -> str:
        """Rows of the promoted table once the batch is merged (dbt counts the table) that
        meet the check's ``where`` and ``extra`` (an unqualified condition)."""
        a, lay = self.a, self.layout
        w = self._and_where(check.where) + self._and_where(extra)
        batch = self._sum(f"{live}{w}")
        if self.promoted is None:
            return batch
        if not check.where and not extra:
            f = F
            return (
                f"(SELECT COUNT(*) FROM {a.ident(*lay.data)}) + "
                f"{self._sum(f'{live} AND {self.col(f, OLD)} = 0')} - "
                f"{self._sum(f'{self.col(f, WIN)} = 1 AND {self.col(f, DEL)} = 1 AND {self.col(f, OLD)} = 1')}"
            )
        p, b2 = "__KEEL_P", "__KEEL_B2"
        kept = (
            f"(SELECT COUNT(*) FROM {a.ident(*lay.data)} AS {a.ident(p)} WHERE 1 = 1{w} "
            f"AND NOT EXISTS (SELECT 1 FROM {a.ident(B)} AS {a.ident(b2)} WHERE "
            f"{self.col(b2, WIN)} = 1 AND {keys_equal(a, lay, b2, p)}))"
        )
        return f"{kept} + {batch}"

    def failing_rows(
        self, check_ids: Sequence[str], masked: frozenset[str], limit: int
    ) -> tuple[str, list[str]]:
        """Up to ``limit`` failing rows per check (row-level checks only), masked columns
        as ``'***'`` (NULL stays NULL). Returns the SQL and the column names after the
        first (check id) column."""
        a = self.a
        names = self.layout.names
        cols = []
        for c in names:
            ref = a.ident(c)
            cols.append(
                f"CASE WHEN {ref} IS NULL THEN NULL ELSE {a.lit(MASK)} END AS {ref}"
                if c in masked
                else ref
            )
        order = ", ".join(a.ident(k) for k in self.layout.keys)
        branches = []
        for i, check in enumerate(self.checks):
            if check.id not in check_ids or self._predicate(check) is None:
                continue
            branches.append(
                f"SELECT * FROM (SELECT {a.lit(check.id)} AS {a.ident('__KEEL_CHECK')}, "
                f"{', '.join(cols)} FROM {a.ident(F)} WHERE {a.ident(flag(i))} = 1 "
                f"ORDER BY {order} LIMIT {int(limit)}) AS {a.ident(f'__KEEL_S{i}')}"
            )
        if not branches:
            return "", names
        return f"{self.ctes()} {' UNION ALL '.join(branches)}", names

    def quarantine_rows(self, check_ids: Sequence[str]) -> tuple[str, list[str], list[str]]:
        """Every live row failing one of ``check_ids``: (SQL, data columns, check ids flagged
        in the trailing columns, in order)."""
        a = self.a
        picked = [
            (i, c)
            for i, c in enumerate(self.checks)
            if c.id in check_ids and self._predicate(c) is not None
        ]
        if not picked:
            return "", [], []
        flags = [a.ident(flag(i)) for i, _ in picked]
        cols = ", ".join([*(a.ident(c) for c in self.layout.names), *flags])
        any_flag = " + ".join(flags)
        return (
            f"{self.ctes()} SELECT {cols} FROM {a.ident(F)} WHERE {any_flag} > 0",
            self.layout.names,
            [c.id for _, c in picked],
        )
