from __future__ import annotations

import pytest
from pydantic import ValidationError

from pulse.settings import Settings


def test_production_refuses_a_placeholder_jwt_secret() -> None:
    for secret in ("change-me", "secret", "short-but-not-placeholder"):
        with pytest.raises(ValidationError, match="placeholder or shorter"):
            Settings(environment="production", jwt_secret=secret)


def test_production_accepts_a_real_secret_or_a_secrets_manager_arn() -> None:
    assert Settings(environment="production", jwt_secret="k" * 40).jwt_secret
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:pulse/jwt-secret-AbCdEf"
    assert Settings(environment="production", jwt_secret="", jwt_secret_arn=arn).jwt_secret_arn


def test_development_tolerates_a_placeholder() -> None:
    assert Settings(environment="development", jwt_secret="change-me").environment == "development"
