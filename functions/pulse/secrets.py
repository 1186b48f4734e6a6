"""Secrets the functions need, from settings or (in AWS) from Secrets Manager, read once."""

from __future__ import annotations

import functools

import boto3

from pulse.exceptions import ConfigurationError
from pulse.settings import MIN_SECRET_LENGTH, PLACEHOLDER_SECRETS, get_settings


@functools.cache
def jwt_secret() -> str:
    settings = get_settings()
    if settings.jwt_secret_arn:
        client = boto3.client("secretsmanager")
        secret = str(client.get_secret_value(SecretId=settings.jwt_secret_arn)["SecretString"])
    else:
        secret = settings.jwt_secret.get_secret_value()
    if settings.environment != "development" and (
        secret in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH
    ):
        raise ConfigurationError(
            f"the JWT secret is a placeholder or shorter than {MIN_SECRET_LENGTH} characters"
        )
    if not secret:
        raise ConfigurationError("no JWT secret configured (PULSE_JWT_SECRET)")
    return secret
