"""How keel connects to Snowflake: the keyword arguments snowflake.connector.connect takes
[developer-guide/python-connector/python-connector-api: account, user, password, role,
warehouse, database, authenticator ('externalbrowser' for browser SSO), private_key_file
and private_key_file_pwd for key-pair authentication]."""

from __future__ import annotations

import pytest

from keel.adapters.snowflake import connect_params
from keel.errors import WarehouseError
from keel.project.models import Warehouse

BASE = {
    "engine": "snowflake",
    "account": "xy12345",
    "user": "KEEL",
    "role": "SOPHIA_AI_ADMIN_ROLE",
    "warehouse": "COMPUTE_WH",
    "database": "SOPHIA",
}


def test_password() -> None:
    params = connect_params(Warehouse(**BASE, password="pw"))
    assert params == {
        **{k: v for k, v in BASE.items() if k != "engine"},
        "password": "pw",
        "autocommit": True,
        "paramstyle": "qmark",  # values bound on the server (keel.adapters.snowflake_runtime)
        "application": "keel",
    }


def test_key_pair_with_passphrase() -> None:
    params = connect_params(
        Warehouse(**BASE, private_key_path="/keys/rsa_key.p8", private_key_passphrase="secret")
    )
    assert params["private_key_file"] == "/keys/rsa_key.p8"
    assert params["private_key_file_pwd"] == "secret"
    assert "password" not in params


def test_external_browser_for_people() -> None:
    params = connect_params(Warehouse(**BASE, authenticator="externalbrowser"))
    assert params["authenticator"] == "externalbrowser"
    assert "password" not in params and "private_key_file" not in params


def test_no_credentials_is_a_clear_error() -> None:
    with pytest.raises(WarehouseError, match="no Snowflake credentials"):
        connect_params(Warehouse(**BASE))


def test_password_and_key_pair_together_is_an_error() -> None:
    with pytest.raises(WarehouseError, match="either password or private_key_path"):
        connect_params(Warehouse(**BASE, password="pw", private_key_path="/k.p8"))


def test_secrets_are_not_in_the_model_repr() -> None:
    spec = Warehouse(**BASE, password="pw", private_key_passphrase="secret")
    assert "pw" not in repr(spec) and "secret" not in repr(spec)
