"""Jinja in contracts, rendered as dbt renders a properties file at parse time.

Facts encoded (dbt-core 1.11 ``dbt/clients/jinja`` native rendering and
``dbt/context/configured.py``): a template that is one expression keeps its Python
type, several parts join into text, a string without jinja is unchanged; ``var()``
takes the project's value, then the default, else "Required var ... not found";
``env_var()`` the environment, then the default, else an error; ``DBT_ENV_SECRET_``
variables may not be used in properties files; rendering runs in jinja's sandbox.
"""

from __future__ import annotations

import pytest

from keel.project.dbt_jinja import Renderer, RenderError, target_of
from keel.project.models import Warehouse


def _r(**vars: object) -> Renderer:
    return Renderer(vars, {"HOME_DB": "analytics"}, target_of(Warehouse(), "sophia"))


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ var('schema', 'hubspot') }}", "hubspot"),
        ("{{ var('enabled', true) and var('other', true) }}", True),
        ("{{ var('a', true) }} and {{ var('b', true) }}", "True and True"),
        ("{{ var('n', 3) }}", 3),
        ("{{ env_var('HOME_DB') }}", "analytics"),
        ("{{ env_var('MISSING', 'fallback') }}", "fallback"),
        ("{{ target.type }}", "duckdb"),
        ("{{ target.database }}", "warehouse"),
        ("{% if target.type != 'spark' %}{{ var('db', target.database) }}{% endif %}", "warehouse"),
        ("{% if target.type == 'duckdb' %}x{% endif %}_y", "x_y"),
        ("{{ var('loaded') | as_text }}", "_loaded_at"),
        ("plain text {not jinja}", "plain text {not jinja}"),
    ],
)
def test_values_render_like_dbt(template: str, expected: object) -> None:
    assert _r(loaded="_loaded_at").render(template) == expected


def test_project_vars_win_over_defaults() -> None:
    assert _r(schema="raw_hubspot").render("{{ var('schema', 'hubspot') }}") == "raw_hubspot"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ var('hubspot_database') }}", "Required var 'hubspot_database' not found"),
        ("{{ env_var('NOPE') }}", "env var 'NOPE' is not set and has no default"),
        ("{{ env_var('DBT_ENV_SECRET_TOKEN', 'x') }}", "secret env vars"),
        ("{{ ref('x') }}", "'ref' is undefined"),
        ("{{ var('a', 1) ", "jinja syntax error"),
        ("{{ ''.__class__.__mro__ }}", "sandbox"),
        ("{{ 'x' * 10 ** 9 }}", "sandbox"),
        ("{{ 2 ** 100000 }}", "sandbox"),
    ],
)
def test_what_cannot_be_known_without_a_run_is_a_clear_error(template: str, message: str) -> None:
    with pytest.raises(RenderError) as info:
        _r().render(template)
    assert message in str(info.value)
