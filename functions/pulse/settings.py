"""The one settings object, read from the environment and validated once per process."""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "secret", "dev-secret", "development-secret-change-me"}
)
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Everything the functions read from their environment (prefix ``PULSE_``)."""

    model_config = SettingsConfigDict(env_prefix="PULSE_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "production"

    database_url: str = "postgresql://postgres@127.0.0.1:5432/pulse"
    # In AWS the URL carries no password: the user and password come from this secret (the
    # RDS-generated JSON with "username" and "password").
    database_secret_arn: str = ""
    db_pool_min: int = Field(default=1, ge=0)
    db_pool_max: int = Field(default=4, ge=1)
    db_connect_timeout_s: float = Field(default=5.0, gt=0)

    redis_url: str = "redis://127.0.0.1:6379/0"
    # Every Redis key and channel starts with this, so that tests and several installs can share
    # one Redis without touching each other's data.
    redis_key_prefix: str = ""

    # The JWT secret: either given directly (development, tests) or read from Secrets Manager.
    jwt_secret: SecretStr = SecretStr("")
    jwt_secret_arn: str = ""
    jwt_issuer: str = "pulse"
    jwt_audience: str = "pulse-dashboard"
    access_token_ttl_s: int = Field(default=15 * 60, ge=30)
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, ge=60)

    # Failed logins: per (email, source address) and per source address within the window,
    # then a 429 until the window ends. Failures for one email from everywhere only slow down
    # addresses that never logged in to it (a backoff of seconds), so that an attacker cannot
    # lock the owner out (pulse.auth.login_limits).
    login_window_s: int = Field(default=15 * 60, ge=1)
    login_max_failures_per_email: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=30, ge=1)
    login_email_backoff_after: int = Field(default=10, ge=1)
    login_known_address_ttl_s: int = Field(default=90 * 24 * 3600, ge=60)
    # Registrations a source address may make within the window (each costs a slow hash).
    register_max_per_ip: int = Field(default=10, ge=1)
    register_window_s: int = Field(default=3600, ge=1)

    # Share links (pulse.domain.sharing): a share session lasts this long; failed passwords per
    # (link, source address) and per link from everywhere within the window, then 429.
    share_session_ttl_s: int = Field(default=3600, ge=30)
    share_window_s: int = Field(default=15 * 60, ge=1)
    share_max_failures_per_link_ip: int = Field(default=5, ge=1)
    share_max_failures_per_link: int = Field(default=50, ge=1)

    # Ingest
    events_stream: str = "pulse-events"
    ingest_rate_limit_per_minute: int = Field(default=6000, ge=1)

    # Real-time: the WebSocket API's management endpoint (``@connections``), e.g.
    # https://{api-id}.execute-api.{region}.amazonaws.com/{stage}; empty turns the fan-out off.
    websocket_management_url: str = ""
    # The processor's fan-out: this many pushes at once, all of them within this deadline.
    websocket_fanout_workers: int = Field(default=16, ge=1, le=256)
    websocket_fanout_deadline_s: float = Field(default=2.0, gt=0, le=30)

    # The columnar archive of whole days of events (pulse.archive), which filtered reports and
    # property breakdowns read instead of the events table: a directory (the local runtime,
    # tests) or an S3 bucket (AWS), whose files the readers copy into a local cache of at most
    # ``archive_cache_mb``. Neither set: no archive, every report reads Postgres alone.
    archive_dir: str = ""
    archive_bucket: str = ""
    archive_cache_dir: str = "/tmp/pulse-archive"
    archive_cache_mb: int = Field(default=1024, ge=16)

    @model_validator(mode="after")
    def _secret_is_not_a_placeholder(self) -> Settings:
        # A function that signs tokens checks the secret it gets (pulse.secrets.jwt_secret); here
        # a placeholder given directly is refused outside development at once.
        secret = self.jwt_secret.get_secret_value()
        if self.environment == "production" and secret and not self.jwt_secret_arn:
            if secret in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    "PULSE_JWT_SECRET is a placeholder or shorter than "
                    f"{MIN_SECRET_LENGTH} characters; set a real secret or PULSE_JWT_SECRET_ARN"
                )
        return self


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, validated on first use (a Lambda cold start)."""
    return Settings()
