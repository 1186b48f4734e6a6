"""In AWS the JWT secret comes from Secrets Manager (here: moto)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from pulse import secrets as pulse_secrets
from pulse import settings as pulse_settings
from pulse.exceptions import ConfigurationError


@pytest.fixture
def fresh_settings(monkeypatch):
    def _use(**env: str) -> None:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        pulse_settings.get_settings.cache_clear()
        pulse_secrets.jwt_secret.cache_clear()

    yield _use
    monkeypatch.undo()
    pulse_settings.get_settings.cache_clear()
    pulse_secrets.jwt_secret.cache_clear()


@mock_aws
def test_secret_is_read_from_secrets_manager(fresh_settings) -> None:
    value = "s" * 48
    arn = boto3.client("secretsmanager").create_secret(Name="pulse/jwt", SecretString=value)["ARN"]
    fresh_settings(PULSE_ENVIRONMENT="production", PULSE_JWT_SECRET="", PULSE_JWT_SECRET_ARN=arn)
    assert pulse_secrets.jwt_secret() == value


@mock_aws
def test_a_placeholder_in_secrets_manager_is_refused_outside_development(fresh_settings) -> None:
    arn = boto3.client("secretsmanager").create_secret(Name="p", SecretString="change-me")["ARN"]
    fresh_settings(PULSE_ENVIRONMENT="production", PULSE_JWT_SECRET="", PULSE_JWT_SECRET_ARN=arn)
    with pytest.raises(ConfigurationError, match="placeholder"):
        pulse_secrets.jwt_secret()


@mock_aws
def test_database_credentials_come_from_secrets_manager(fresh_settings) -> None:
    from pulse.db import connection

    arn = boto3.client("secretsmanager").create_secret(
        Name="pulse/db", SecretString=json.dumps({"username": "pulse", "password": "p@ss w0rd"})
    )["ARN"]
    fresh_settings(
        PULSE_DATABASE_URL="postgresql://db.internal:5432/pulse?sslmode=require",
        PULSE_DATABASE_SECRET_ARN=arn,
    )
    connection.database_url.cache_clear()
    try:
        url = connection.database_url()
    finally:
        connection.database_url.cache_clear()
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(url)
    assert parts["user"] == "pulse" and parts["password"] == "p@ss w0rd"
    assert parts["host"] == "db.internal" and parts["sslmode"] == "require"
