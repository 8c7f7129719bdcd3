"""Webhook bodies made safe before they are parsed (keel.events.intake)."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.errors import WebhookError
from keel.events.intake import MAX_DEPTH, TruncatingFilter, clean_body, nesting, short
from keel.events.payload import parse_webhook


def body(job: object = 1, cid: object = "c-1", name: object = "gong") -> bytes:
    data = {"jobId": job, "connection": {"id": cid, "name": name}, "success": True}
    return json.dumps({"data": data}).encode()


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (body(cid="a\x00b"), "data.connection.id contains a NUL character"),
        (body(name="x\ud800"), "data.connection.name contains character U+D800"),
        (body(job="1\x00"), "data.jobId contains a NUL character"),
        (body(name="line\nbreak"), "data.connection.name contains character U+000A"),
        (b'{"data": {"jobId": ' + b"9" * 5000 + b"}}", "more than 19 digits"),
        (b"[" * 3000, f"nested deeper than {MAX_DEPTH} levels"),
        (b'{"a":' * 100_000, f"nested deeper than {MAX_DEPTH} levels"),
        (body(cid="x" * 900_000), "data.connection.id is longer than 256 characters"),
        (b'{"data": \xff}', "body is not UTF-8 (byte 9)"),
        (b'{"x": NaN}', "body has NaN, which is not JSON"),
        (b'{"x": 1e999}', "body has a number keel cannot store"),
        (body(job=-1), "data.jobId must not be negative"),
        (body(job=[1]), "data.jobId must be a string or an integer"),
        (b"{not json", "body is not JSON"),
    ],
)
def test_hostile_bodies_are_refused_with_the_reason(raw: bytes, why: str) -> None:
    with pytest.raises(WebhookError, match=None) as info:
        clean_body(raw)
    assert why in info.value.message


def test_free_text_is_normalised_not_refused() -> None:
    raw = json.dumps(
        {"text": "a\x00b\ud800c" + "z" * 10_000, "data": json.loads(body())["data"]}
    ).encode()
    clean = json.loads(clean_body(raw))
    assert clean["text"].startswith("a\ufffdb\ufffdc")
    assert len(clean["text"]) == 8192 + 1
    event = parse_webhook(clean_body(raw))
    assert (event.job_id, event.connection_name) == ("1", "gong")


def test_nesting_ignores_brackets_inside_strings() -> None:
    assert nesting(b'{"a": "[[[[{{{{\\"[["}') == 1
    assert nesting(b"[[[]]]") == 3


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_clean_json_or_a_webhook_error(raw: bytes) -> None:
    try:
        out = clean_body(raw)
    except WebhookError as exc:
        assert exc.message
        return
    json.loads(out)
    out.decode("utf-8")


def test_log_values_are_cut() -> None:
    assert short("x" * 1000) == "x" * 200 + "... (1000 characters)"
    record = logging.LogRecord("keel.events", logging.WARNING, "f", 1, "id %s", ("y" * 5000,), None)
    TruncatingFilter().filter(record)
    assert len(record.getMessage()) < 300
