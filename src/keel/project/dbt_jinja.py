"""Render the jinja in a dbt sources file the way dbt does at parse time.

What dbt renders, and with what, is documented by dbt-core itself (1.11,
``dbt/parser/schema_renderer.py`` and ``dbt/context/configured.py``):

- every string of a source entry is rendered, except ``description`` (rendered
  later with ``doc()``), ``loaded_at_query`` and the ``tests`` / ``data_tests``
  of tables and columns (their arguments are rendered when the test is
  compiled, with the same ``var`` / ``env_var`` / ``target``);
- rendering is *native*: a template that is one expression keeps its Python
  type (``"{{ var('x', true) }}"`` is the boolean ``True``), a template of
  several parts is their text joined; a string with no jinja is unchanged;
- ``var(name, default)``: the project's vars first, then the default, else the
  error "Required var ... not found"; ``env_var(name, default)``: the
  environment, then the default, else an error; a ``DBT_ENV_SECRET_`` variable
  may not be used in a properties file;
- the environment is jinja's sandbox (dbt's ``NativeSandboxEnvironment``).

keel knows what a dbt run would know without a warehouse connection: vars from
``keel.yml`` (and the dbt project's ``dbt_project.yml``), the environment, and
``target`` from the ``warehouse:`` block. Descriptions are never rendered, so
``doc()`` and other description-only calls are accepted as written.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator, Mapping
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

from keel.project.models import Warehouse

if TYPE_CHECKING:
    import jinja2

SECRET_PREFIX = "DBT_ENV_SECRET_"
MAX_POWER = 1000
MAX_OUTPUT = 1_000_000
_MARKERS = ("{{", "{%", "{#")


class RenderError(Exception):
    """A template that dbt would also refuse; the message says why."""


def _environment() -> jinja2.Environment:
    """jinja's immutable sandbox with native types (imported only when a file has jinja:
    most contracts have none, and jinja2 costs a noticeable share of start-up)."""
    import jinja2
    import jinja2.nativetypes
    import jinja2.sandbox

    class _Env(jinja2.sandbox.ImmutableSandboxedEnvironment):
        code_generator_class = jinja2.nativetypes.NativeCodeGenerator
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            # bounded: no gigabyte strings ('x' * 10**9) or huge powers from one line
            if operator == "**" and isinstance(right, int) and abs(right) > MAX_POWER:
                raise jinja2.exceptions.SecurityError(f"exponent over {MAX_POWER}")
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    sized = isinstance(seq, str | list | tuple) and isinstance(n, int)
                    if sized and len(seq) * n > MAX_OUTPUT:
                        raise jinja2.exceptions.SecurityError(
                            f"a repeated value over {MAX_OUTPUT:,} items"
                        )
            return super().call_binop(context, operator, left, right)

    env = _Env(undefined=jinja2.StrictUndefined, autoescape=False)
    # dbt's type filters: as_text keeps a string, the others convert it
    env.filters.update(as_text=str, as_native=_literal, as_bool=_literal, as_number=_literal)
    return env


def _native(nodes: Iterator[Any]) -> Any:
    head = list(islice(nodes, 2))
    if not head:
        return ""
    if len(head) == 1:
        return head[0]  # one expression keeps its type; a lone string stays a string
    return "".join(str(v) for v in chain(head, nodes))


def target_of(warehouse: Warehouse, project_name: str) -> dict[str, Any]:
    """dbt's ``target`` for this warehouse: the fields a profile would give."""
    engine = warehouse.engine
    database = warehouse.database
    schema = {"duckdb": "main", "postgres": "public"}.get(engine)
    if engine == "duckdb" and database is None:
        # dbt-duckdb names the database after the file (its stem)
        database = warehouse.path.rsplit("/", 1)[-1].split(".", 1)[0] or "memory"
    return {
        "name": "keel",
        "profile_name": project_name,
        "type": engine,
        "database": database,
        "schema": schema,
        "user": warehouse.user,
        "role": warehouse.role,
        "warehouse": warehouse.warehouse,
        "account": warehouse.account,
        "threads": 1,
    }


class Renderer:
    """Renders single values; one per file (so a problem can name it)."""

    def __init__(
        self,
        variables: Mapping[str, Any],
        env: Mapping[str, str],
        target: Mapping[str, Any],
        project_name: str = "keel",
    ) -> None:
        self._vars = dict(variables)
        self._env = env
        self._jinja: jinja2.Environment | None = None
        self._context: dict[str, Any] = {
            "var": self._var,
            "env_var": self._env_var,
            "target": dict(target),
            "project_name": project_name,
            "fromjson": _fromjson,
            "tojson": json.dumps,
            "log": lambda *_a, **_k: "",
            "return": lambda value: value,
        }

    def _var(self, name: str, default: Any = ...) -> Any:
        if name in self._vars:
            return self._vars[name]
        if default is not ...:
            return default
        raise RenderError(
            f"Required var {name!r} not found: give it a default or set it under vars: in keel.yml"
        )

    def _env_var(self, name: str, default: str | None = None) -> str:
        if name.startswith(SECRET_PREFIX):
            raise RenderError(f"{name}: secret env vars ({SECRET_PREFIX}*) are not allowed here")
        if name in self._env:
            return self._env[name]
        if default is not None:
            return default
        raise RenderError(f"env var {name!r} is not set and has no default")

    def render(self, value: Any) -> Any:
        """Render one value; strings without jinja come back unchanged."""
        if not isinstance(value, str) or not any(m in value for m in _MARKERS):
            return value
        import jinja2

        if self._jinja is None:
            self._jinja = _environment()
        try:
            template = self._jinja.from_string(value)
            return _native(template.root_render_func(template.new_context(self._context)))
        except RenderError:
            raise
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"jinja syntax error: {exc.message}") from exc
        except jinja2.UndefinedError as exc:
            raise RenderError(
                f"{exc.message} (keel renders var, env_var and target; other calls need a dbt run)"
            ) from exc
        except jinja2.exceptions.SecurityError as exc:
            raise RenderError(f"refused by the jinja sandbox: {exc}") from exc
        except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
            raise RenderError(f"cannot render: {exc}") from exc


def _literal(value: Any) -> Any:
    try:
        return ast.literal_eval(value) if isinstance(value, str) else value
    except (ValueError, SyntaxError):
        return value


def _fromjson(text: str, default: Any = None) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


# keys whose strings dbt does not render at parse time (dbt-core SchemaYamlRenderer)
NO_RENDER = frozenset({"description", "loaded_at_query", "tests", "data_tests"})


def render_tree(
    data: Any, render: Callable[[Any], Any], report: Callable[[Any, str | int, str], None]
) -> None:
    """Render every string in ``data`` in place, skipping :data:`NO_RENDER` keys.

    ``report(container, key, message)`` is called for a value that cannot be rendered
    (the container knows the line of its key).
    """
    items: Any
    if isinstance(data, dict):
        items = [(k, v) for k, v in data.items() if k not in NO_RENDER]
    elif isinstance(data, list):
        items = list(enumerate(data))
    else:
        return
    for key, value in items:
        if isinstance(value, dict | list):
            render_tree(value, render, report)
            continue
        try:
            data[key] = render(value)
        except RenderError as exc:
            report(data, key, f"{str(value)[:80]!r}: {exc}")
