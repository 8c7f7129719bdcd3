"""Contract SQL fragments, parsed rather than lexed.

A contract may carry SQL: a test's ``where``, an ``expression`` test, a string
``min_value``/``max_value`` of ``accepted_range`` and a freshness ``filter``.
The gate embeds each one inside its own statement, so a fragment must be *one
scalar expression over the stream's own columns* and nothing else. This module
parses the text with sqlglot in the engine's dialect and walks the tree against
an allowlist:

* node kinds: columns, literals, comparisons, arithmetic, boolean logic,
  ``LIKE``/``IN``/``BETWEEN``/``CASE``/``CAST`` and a few more;
* functions: pure scalar ones (string, number and date helpers);
* casts: plain types only.

Everything else is refused: a second statement, a subquery, a table or
qualified column (another schema's data), ``*``, parameters and every
function not on the list (``read_text``, ``read_csv``, ``pg_read_file``,
``current_setting``, ``getenv``, ``COPY`` has no expression form at all).
The fragment that runs is sqlglot's rendering of the accepted tree, never
the author's raw text: whatever the engine's lexer would make of
``$$...$$`` or ``E'...'`` quoting, it only ever sees what was checked.

sqlglot is imported lazily: it costs a third of a second and only projects
with SQL fragments pay it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

from keel.errors import Problem
from keel.sql import ident

BARE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_CHARS = 4000
MAX_DEPTH = 64


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Node kinds (sqlglot expression class names) a fragment may contain.
STRUCTURE = _names(
    """
    Column Identifier Literal Boolean Null Paren Neg Not And Or Xor EQ NEQ GT GTE LT
    LTE NullSafeEQ NullSafeNEQ Is Add Sub Mul Div Mod IntDiv DPipe Like ILike Escape
    In Between Case If Cast TryCast DataType DataTypeParam Interval Var Tuple
    RegexpLike RegexpILike SimilarTo Bracket Array
    """
)
# Pure scalar functions sqlglot knows by class.
FUNCTIONS = _names(
    """
    Upper Lower Length Trim Coalesce Nullif Abs Round Floor Ceil Substring Concat
    ConcatWs DateTrunc TimestampTrunc TimeTrunc CurrentDate CurrentTimestamp
    CurrentTime Extract DateAdd DateSub DateDiff TsOrDsAdd TsOrDsToDate TimestampAdd
    TimestampSub TimestampDiff Greatest Least StartsWith EndsWith StrPosition Sign
    Sqrt Pow Ln Log Exp Left Right Initcap Reverse Pad Replace ArraySize ToChar
    StrToTime StrToDate TimeToStr Date UnixToTime TimeStrToTime TsOrDsToTimestamp
    Day Month Year Quarter Week DayOfWeek DayOfYear Hour Minute Second RegexpExtract
    RegexpReplace Chr Ascii Repeat Nvl2 IsNan IsInf ToNumber SafeDivide Split
    """
)
# Functions sqlglot does not model (``Anonymous``), by upper-case name.
ANONYMOUS = _names(
    """
    LEN CHAR_LENGTH CHARACTER_LENGTH OCTET_LENGTH LTRIM RTRIM BTRIM REGEXP_MATCHES
    REGEXP_FULL_MATCH IFF NVL ZEROIFNULL NULLIFZERO IFNULL TRY_TO_NUMBER TRY_TO_DATE
    TRY_TO_TIMESTAMP TO_DATE TO_TIMESTAMP TO_NUMBER DATE_PART DATEPART CONTAINS
    STRPOS POSITION TRUNC TRUNCATE DIV0 SPLIT_PART LPAD RPAD AGE EPOCH ISODOW
    DAYNAME MONTHNAME LAST_DAY MAKE_DATE MD5 ARRAY_LENGTH CARDINALITY
    JSON_EXTRACT_STRING NOW TODAY
    """
)
# Types a fragment may cast to (sqlglot's DataType.Type names).
TYPES = _names(
    """
    TINYINT SMALLINT INT BIGINT HUGEINT UTINYINT USMALLINT UINT UBIGINT FLOAT DOUBLE
    DECIMAL BOOLEAN VARCHAR CHAR TEXT NCHAR NVARCHAR DATE TIME TIMETZ TIMESTAMP
    TIMESTAMPTZ TIMESTAMPLTZ TIMESTAMPNTZ TIMESTAMP_S TIMESTAMP_MS TIMESTAMP_NS
    DATETIME INTERVAL UUID BIGDECIMAL
    """
)

# String spellings other than '...' differ most between lexers: refused by name.
SPECIAL_STRINGS = {
    "RawString": "a dollar-quoted string",
    "ByteString": "an E'...' escape string",
    "UnicodeString": "a U&'...' string",
    "HexString": "an X'...' string",
    "BitString": "a B'...' string",
    "National": "an N'...' string",
}


class FragmentError(ValueError):
    """Why a fragment is not one safe scalar expression."""


def fragment_sql(
    text: str,
    dialect: str,
    columns: Collection[str] | None = None,
    column: str | None = None,
) -> str:
    """The SQL to embed for ``text``, rendered by sqlglot from the checked tree.

    ``dialect`` is the engine's (``duckdb``, ``postgres``, ``snowflake``).
    ``columns`` are the stream's columns (canonical, upper case); ``None`` skips
    the column check (at load time the RAW table may not exist yet). With
    ``column`` the text is a column-level ``expression`` test (dbt_utils'
    ``expression_is_true`` renders ``<column> <expression>``) and the result
    is the whole expression, column included.
    Raises :class:`FragmentError` naming the first reason it is refused.
    """
    if "\x00" in text:
        raise FragmentError("it contains a NUL character")
    if not text.strip():
        raise FragmentError("it is empty")
    if len(text) > MAX_CHARS:
        raise FragmentError(f"it is longer than {MAX_CHARS} characters")
    source = f"{_column(column)} {text}" if column else text
    tree = _parse(source, dialect)
    _check(tree, columns)
    try:
        out: str = tree.sql(dialect=dialect, comments=False)
    except Exception as exc:  # sqlglot cannot render what it parsed: refuse it
        raise FragmentError(f"it cannot be rendered for {dialect} ({exc})") from exc
    # The rendering must mean what was checked: read back, it passes the same checks
    # (sqlglot reads ".0.0" as one number and writes "0.0.0", which reads back as a
    # dotted name) and renders the same.
    back = _parse(out, dialect)
    _check(back, columns)
    if back.sql(dialect=dialect, comments=False) != out:
        raise FragmentError("it does not render back to the same expression")
    return out


def fragment_problem(
    text: str,
    dialect: str,
    columns: Collection[str] | None = None,
    column: str | None = None,
) -> str | None:
    """Why ``text`` is refused, or None when it is accepted."""
    try:
        fragment_sql(text, dialect, columns, column)
    except FragmentError as exc:
        return str(exc)
    return None


def check_fragments(engine: str, streams: Iterable[Any]) -> list[Problem]:
    """Load-time check of every fragment of ``streams`` (loader ``Stream`` values)
    in ``engine``'s dialect; column names are checked later, against the RAW
    table, when the gate compiles its checks."""
    problems: list[Problem] = []
    for stream in streams:
        found: list[tuple[str, str | None, int, str]] = []
        for test in stream.all_tests:
            what = f"test {test.name!r}"
            if test.where and test.where.strip():
                found.append((test.where, None, test.line, f"{what}: where"))
            if test.name == "expression":
                col = test.column.upper() if test.column else None
                expr = str(test.args.get("expression", ""))
                found.append((expr, col, test.line, f"{what}: expression"))
            if test.name in ("accepted_range", "expect_column_values_to_be_between"):
                for bound in ("min_value", "max_value"):
                    if isinstance(test.args.get(bound), str):
                        found.append((test.args[bound], None, test.line, f"{what}: {bound}"))
            for key in ("from_condition", "to_condition"):  # dbt_utils.relationships_where
                if test.args.get(key) is not None:
                    found.append((str(test.args[key]), None, test.line, f"{what}: {key}"))
        fresh = stream.freshness
        if fresh is not None and fresh.filter:
            found.append((fresh.filter, None, stream.line, "freshness.filter"))
        for text, col, line, what in found:
            why = fragment_problem(text, engine, None, col)
            if why:
                problems.append(
                    Problem(
                        stream.file,
                        line,
                        f"table {stream.key}: {what} is not a SQL expression keel can run "
                        f"({why}): {_short(text)!r}",
                    )
                )
    return problems


def _column(name: str) -> str:
    # Bare when it is a plain name, so the engine folds it as it folds the table's
    # columns (lower case on PostgreSQL); quoted otherwise.
    return name if BARE.fullmatch(name) else ident(name)


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _parse(text: str, dialect: str) -> Any:
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        trees = sqlglot.parse(text, read=dialect)
    except RecursionError as exc:
        raise FragmentError("it is nested too deeply") from exc
    except SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FragmentError(f"it does not parse as {dialect} SQL: {first}") from exc
    except Exception as exc:  # sqlglot tripped over it: not something keel can run
        raise FragmentError(f"it does not parse as {dialect} SQL ({type(exc).__name__})") from exc
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise FragmentError(f"it holds {len(trees)} statements, not one expression")
    return trees[0]


def _kind(node: Any) -> str:
    return type(node).__name__


def _check(tree: Any, columns: Collection[str] | None) -> None:
    from sqlglot import exp

    if isinstance(tree, exp.Query | exp.Command) or not isinstance(tree, exp.Condition):
        raise FragmentError(f"it is a {_kind(tree).upper()} statement, not an expression")
    have = None if columns is None else {c.upper() for c in columns}
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise FragmentError(f"it is nested more than {MAX_DEPTH} levels deep")
        kind = _kind(node)
        if isinstance(node, exp.Subquery | exp.Query):
            raise FragmentError("it contains a subquery")
        if isinstance(node, exp.Table):
            raise FragmentError("it reads a table")
        if isinstance(node, exp.Anonymous):
            name = str(node.name).upper()
            if name not in ANONYMOUS:
                raise FragmentError(f"function {name} is not allowed in contract SQL")
        elif isinstance(node, exp.Func) and kind not in FUNCTIONS and kind not in STRUCTURE:
            raise FragmentError(f"function {node.sql_name()} is not allowed in contract SQL")
        elif kind in SPECIAL_STRINGS:
            raise FragmentError(f"it uses {SPECIAL_STRINGS[kind]}: write strings as '...'")
        elif not isinstance(node, exp.Func) and kind not in STRUCTURE:
            raise FragmentError(f"{kind} is not allowed in contract SQL")
        if isinstance(node, exp.DataType) and node.this.name not in TYPES:
            raise FragmentError(f"a cast to {node.sql()} is not allowed in contract SQL")
        if isinstance(node, exp.Column):
            if isinstance(node.this, exp.Star):
                raise FragmentError("it selects *")
            if node.table or node.args.get("db") or node.args.get("catalog"):
                raise FragmentError(
                    f"it names {node.sql()}: only the stream's own columns, unqualified"
                )
            if have is not None and node.name.upper() not in have:
                raise FragmentError(f"column {node.name!r} is not a column of this table")
        for child in node.iter_expressions():
            stack.append((child, depth + 1))
