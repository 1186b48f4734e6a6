"""Settings of the local runtime (ports, data folder, service URLs)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from localcloud.environments import default_concurrency

REPO_ROOT = Path(__file__).resolve().parents[2]


class LocalConfig(BaseSettings):
    # An empty variable (`DATABASE_URL= make up`, a blank line of an .env file) is unset.
    model_config = SettingsConfigDict(env_prefix="LOCAL_", extra="ignore", env_ignore_empty=True)

    host: str = "127.0.0.1"
    http_port: int = 8000
    ws_port: int = 8001
    static_port: int = 3000
    aws_port: int = 4566
    # The local Kinesis (kinesalite, its own process; 0 picks a free port).
    kinesis_port: int = 4567
    data_dir: Path = REPO_ROOT / ".local"

    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/pulse",
        validation_alias=AliasChoices("DATABASE_URL", "LOCAL_DATABASE_URL"),
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("REDIS_URL", "LOCAL_REDIS_URL"),
    )
    redis_key_prefix: str = ""
    region: str = "us-east-1"
    # How many requests the local API Gateway runs at once (each a Lambda invocation).
    max_concurrency: int = 32
    # Run each function in execution environments of its own (worker processes), as Lambda does;
    # false runs every handler in the runtime's process (for comparison and debugging).
    isolate_functions: bool = True
    # Execution environments a function may have at once, unless the wiring reserves a number.
    function_concurrency: int = Field(default_factory=default_concurrency, ge=1)
    # Environments of the "api" function started before `ready`: a dashboard's first load asks
    # for three reports at once, which would otherwise wait for cold starts one by one.
    api_environments_at_start: int = Field(default=3, ge=1)
    # Fire every schedule this often instead of its declared rate (0: as declared). For tests and
    # demos that cannot wait an hour for the rollup.
    schedule_every_s: int = 0
    # On stop (Ctrl-C), how long the event source mappings may take to process what the stream
    # holds once the gateways are closed; what is left then is delivered on the next start.
    drain_timeout_s: float = 20.0
    # The event source mapping reads a shard near its tip at most this often (seconds).
    poll_interval_s: float = Field(default=0.2, ge=0.0)

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, url: str) -> str:
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"must be a postgresql:// URL, got {url!r}")
        return url

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, url: str) -> str:
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"must be a redis:// URL, got {url!r}")
        return url

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def archive_dir(self) -> Path:
        """The columnar archive's directory (``PULSE_ARCHIVE_DIR`` of the functions that read or
        write it), kept with the rest of the local state, as the embedded Postgres's data is."""
        return self.data_dir / "archive"


def load() -> LocalConfig:
    """The settings from the environment; raises ``BadSetting`` naming the variable at fault."""
    try:
        return LocalConfig()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        # A field read from an alias (DATABASE_URL, REDIS_URL) is named by it; the others by
        # LOCAL_ and their name.
        name = field if field.isupper() else f"LOCAL_{field.upper()}"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise BadSetting(f"{name}: {message}") from None


class BadSetting(Exception):
    """A setting of the environment that the runtime cannot use."""
