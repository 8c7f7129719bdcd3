"""Every spelling dbt accepts for a data test becomes the same DataTest.

Spellings from dbt's documentation of data tests: arguments inline (before 1.10) or
under ``arguments:`` (1.10+), configs inline or under ``config:``, a custom ``name:``
inside the body or with ``test_name:``, package prefixes; ``enabled: false`` disables.
"""

from __future__ import annotations

from typing import Any

import pytest

from keel.project.dbt_jinja import Renderer, target_of
from keel.project.models import Warehouse
from keel.project.tests_spec import normalise_test, runs_in_keel

VALUES = ["a", "b"]


@pytest.mark.parametrize(
    "raw",
    [
        {"accepted_values": {"values": VALUES, "severity": "warn", "where": "x > 1"}},
        {
            "accepted_values": {
                "arguments": {"values": VALUES},
                "config": {"severity": "warn", "where": "x > 1"},
            }
        },
        {
            "accepted_values": {
                "name": "my_name",
                "values": VALUES,
                "config": {"severity": "warn", "where": "x > 1"},
            }
        },
        {
            "name": "my_name",
            "test_name": "accepted_values",
            "values": VALUES,
            "config": {"severity": "warn", "where": "x > 1"},
        },
        {
            "accepted_values": {"values": VALUES},
            "name": "my_name",
            "config": {"severity": "warn", "where": "x > 1"},
        },
        {
            "accepted_values": {
                "arguments": {"values": VALUES},
                "description": "d",
                "config": {"severity": "WARN", "where": "x > 1"},
            }
        },
    ],
)
def test_every_spelling_is_the_same_test(raw: Any) -> None:
    test, problems = normalise_test(raw, file="f.yml", line=7, column="STAGE")
    assert problems == []
    assert test is not None
    assert (test.name, test.args, test.severity, test.where, test.column, test.line) == (
        "accepted_values",
        {"values": VALUES},
        "warn",
        "x > 1",
        "STAGE",
        7,
    )


def test_a_disabled_test_is_left_out() -> None:
    assert normalise_test(
        {"not_null": {"config": {"enabled": False}}}, file="f", line=1, column="A"
    ) == (None, [])


def test_an_unknown_test_is_kept_with_its_arguments() -> None:
    test, problems = normalise_test(
        {"dbt_utils.equality": {"compare_model": "ref('x')"}}, file="f", line=3, column=None
    )
    assert problems == [] and test is not None and not runs_in_keel(test)
    assert (test.name, test.args, test.line) == (
        "dbt_utils.equality",
        {"compare_model": "ref('x')"},
        3,
    )


def test_group_by_columns_is_kept_but_not_run() -> None:
    raw = {"dbt_utils.not_null_proportion": {"at_least": 0.9, "group_by_columns": ["k"]}}
    test, problems = normalise_test(raw, file="f", line=1, column="A")
    assert problems == [] and test is not None and not runs_in_keel(test)


def test_row_condition_is_anded_with_where() -> None:
    raw = {
        "dbt_expectations.expect_column_values_to_be_between": {
            "arguments": {"min_value": 0, "row_condition": "kind = 'a'"},
            "config": {"where": "x is not null"},
        }
    }
    test, _ = normalise_test(raw, file="f", line=1, column="A")
    assert test is not None
    assert test.where == "(x is not null) AND (kind = 'a')"
    assert test.args == {"min_value": 0}


def test_jinja_in_arguments_is_rendered_and_a_bad_one_named() -> None:
    r = Renderer({"floor": 5}, {}, target_of(Warehouse(), "p"))
    raw = {
        "dbt_utils.accepted_range": {
            "min_value": "{{ var('floor') }}",
            "where": "{{ 'y > ' ~ var('floor') }}",
        }
    }
    test, _ = normalise_test(raw, file="f", line=1, column="A", render=r.render)
    assert test is not None and test.args == {"min_value": 5} and test.where == "y > 5"
    bad = {"not_null": {"where": "{{ var('nope') }}"}}
    test, problems = normalise_test(bad, file="f.yml", line=9, column="A", render=r.render)
    assert test is None
    assert [p.render() for p in problems] == [
        "f.yml:9: test 'not_null': cannot render: Required var 'nope' not found: give it a "
        "default or set it under vars: in keel.yml"
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["not_null"], "a data test must be a name or a mapping"),
        ({"not_null": {"arguments": ["x"]}}, "test 'not_null': arguments must be a mapping"),
        (
            {"dbt_utils.recency": {"field": "t", "datepart": "fortnight", "interval": 1}},
            "datepart must be one of",
        ),
        (
            {"dbt_utils.unique_combination_of_columns": {"combination_of_columns": "a"}},
            "combination_of_columns must be a list",
        ),
    ],
)
def test_malformed_tests_name_file_and_line(raw: Any, message: str) -> None:
    test, problems = normalise_test(raw, file="f.yml", line=4, column=None)
    assert test is None and problems
    assert problems[0].render().startswith("f.yml:4: ") and message in problems[0].render()
