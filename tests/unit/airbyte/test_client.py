"""The Airbyte client's failure paths against the local Airbyte API: token refused, token
expired mid-run, 5xx then recovery, timeouts, paging past 100, self-hosted basic auth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.support.airbyte_api import FakeAirbyte
from tests.support.airbyte_world import CLIENT_ID, CLIENT_SECRET, nonstandard_world

from keel.airbyte.client import AirbyteClient, AirbyteError
from keel.project.models import AirbyteApi


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(
    fake: FakeAirbyte, ws: str, clock: Clock | None = None, **kw: Any
) -> tuple[AirbyteClient, list[float]]:
    waits: list[float] = []
    fields: dict[str, Any] = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **kw}
    spec = AirbyteApi(workspace_id=ws, **fields)
    c = AirbyteClient(spec, transport=httpx.MockTransport(fake), sleep=waits.append,
                      clock=clock or Clock())  # fmt: skip
    return c, waits


def tokens_requested(fake: FakeAirbyte) -> list[Any]:
    return [body for m, p, body in fake.log if p == "/v1/applications/token"]


def test_token_request_body_matches_the_spec_and_a_refused_token_is_a_clear_error() -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    client, _ = make(fake, ids["workspace"], client_secret="wrong")
    with pytest.raises(AirbyteError) as err:
        client.connections()
    assert err.value.message == (
        "airbyte: the token request was refused (HTTP 403): check airbyte.client_id and "
        "airbyte.client_secret"
    )
    assert tokens_requested(fake) == [
        {"client_id": CLIENT_ID, "client_secret": "wrong", "grant_type": "client_credentials"}
    ]


def test_token_renewed_before_expires_in_and_once_on_a_401_mid_run() -> None:
    clock = Clock()
    fake = FakeAirbyte(token_ttl=180, clock=clock)
    ids = nonstandard_world(fake)
    client, _ = make(fake, ids["workspace"], clock)
    assert len(client.connections()) == 4
    clock.now = 100.0  # still valid: no new token
    client.connection(ids["gong"])
    assert len(tokens_requested(fake)) == 1
    clock.now = 160.0  # within 30 s of expires_in: asked again before it runs out
    client.connection(ids["gong"])
    assert len(tokens_requested(fake)) == 2
    fake.tokens = dict.fromkeys(fake.tokens, 0.0)  # the server expires every token early
    assert client.connection(ids["gong"])["name"] == "Gong → Snowflake"
    assert len(tokens_requested(fake)) == 3


def test_5xx_and_429_retried_with_backoff_then_recovered() -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    client, waits = make(fake, ids["workspace"])
    fake.fail_next("GET", "/v1/connections", 503, times=2)
    fake.fail_next("GET", "/v1/connections", 429)
    assert len(client.connections()) == 4
    assert waits == [0.5, 1.0, 2.0]


def test_a_timeout_is_retried_then_reported_with_what_was_asked() -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    client, waits = make(fake, ids["workspace"], retries=2, timeout_seconds=5)
    fake.fail_next("GET", "/v1/connections/", "timeout", times=3)
    with pytest.raises(AirbyteError) as err:
        client.connection(ids["hubspot"], "HubSpot → Snowflake")
    assert err.value.message == (
        "airbyte: connection HubSpot → Snowflake: no answer within 5s after 3 attempts"
    )
    assert waits == [0.5, 1.0]
    fake.fail_next("GET", "/v1/connections/", "timeout")
    assert client.connection(ids["hubspot"])["connectionId"] == ids["hubspot"]


def test_a_persistent_5xx_names_the_connection_and_a_404_says_what_to_check() -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    client, _ = make(fake, ids["workspace"], retries=1)
    fake.fail_next("GET", "/v1/connections/", 500, times=2)
    with pytest.raises(
        AirbyteError, match=r"connection Gong → Snowflake: HTTP 500: injected HTTP 500"
    ):
        client.connection(ids["gong"], "Gong → Snowflake")
    with pytest.raises(AirbyteError) as err:
        client.connection("8d2f0c2e-0000-4000-8000-000000000000", "Gone → Snowflake")
    assert err.value.status == 404
    assert "connection Gone → Snowflake: not found (HTTP 404)" in err.value.message


def test_250_jobs_read_across_three_pages_of_100() -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    for i in range(250):
        fake.job(ids["gong"], "failed" if i % 50 == 0 else "succeeded")
    client, _ = make(fake, ids["workspace"])
    jobs, partial = client.jobs(ids["gong"])
    assert len(jobs) == 250 and not partial
    assert len({j["jobId"] for j in jobs}) == 250
    limits = [p for m, p, _ in fake.log if p == "/v1/jobs"]
    assert len(limits) == 3
    jobs, partial = client.jobs(ids["gong"], max_pages=2)
    assert len(jobs) == 200 and partial


def test_a_limit_over_100_is_refused_by_the_spec() -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    client, _ = make(fake, ids["workspace"])
    with pytest.raises(AirbyteError, match=r"Airbyte rejected the request: invalid request"):
        client.request("GET", "/connections", what="listing", params={"limit": 250})


def test_self_hosted_basic_auth_and_a_static_bearer_token() -> None:
    fake = FakeAirbyte()
    ids = nonstandard_world(fake)
    fake.basic["airbyte"] = "password"
    spec = AirbyteApi(api_url="http://airbyte.internal:8000/api/public/v1", workspace_id=ids["workspace"],
                      username="airbyte", password="password")  # fmt: skip
    client = AirbyteClient(spec, transport=httpx.MockTransport(fake))
    assert len(client.connections()) == 4
    assert tokens_requested(fake) == []
    fake.static_tokens.add("static-token")
    spec = AirbyteApi(workspace_id=ids["workspace"], token="static-token")
    assert len(AirbyteClient(spec, transport=httpx.MockTransport(fake)).sources()) == 4
    spec = AirbyteApi(workspace_id=ids["workspace"], token="nope")
    with pytest.raises(AirbyteError, match=r"listing sources: the API token was refused"):
        AirbyteClient(spec, transport=httpx.MockTransport(fake)).sources()
