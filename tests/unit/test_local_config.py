"""The local runtime's settings: an empty variable is as good as unset, and a URL of the wrong
kind stops the command with one line, before anything starts."""

from __future__ import annotations

import pytest

from localcloud import cli
from localcloud.config import LocalConfig


def test_an_empty_variable_leaves_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # `DATABASE_URL= make up` (an empty value left in a shell or an .env file)
    monkeypatch.setenv("DATABASE_URL", "")
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("LOCAL_HTTP_PORT", "")
    config = LocalConfig()
    assert config.database_url == "postgresql://postgres@127.0.0.1:5432/pulse"
    assert config.redis_url == "redis://127.0.0.1:6379/0"
    assert config.http_port == 8000


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DATABASE_URL", "127.0.0.1:5432/pulse", "DATABASE_URL"),
        ("DATABASE_URL", "mysql://root@127.0.0.1/pulse", "postgresql://"),
        ("REDIS_URL", "127.0.0.1:6379", "REDIS_URL"),
        ("LOCAL_HTTP_PORT", "eighty", "LOCAL_HTTP_PORT"),
    ],
)
def test_a_bad_setting_stops_the_command_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable, value, says
) -> None:
    monkeypatch.setenv(variable, value)
    assert cli.main(["migrate"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("localcloud: ") and says in err and len(err.splitlines()) == 1, err
    assert "Traceback" not in err
