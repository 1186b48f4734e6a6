"""The local runtime: what runs the functions stops before their connections close; each function
gets variables of its own (the archive's directory) that no other gets."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from localcloud.config import LocalConfig
from localcloud.runtime import LocalRuntime
from pulse import cache
from pulse.db import connection
from pulse.wiring import WIRING


def test_the_functions_pools_close_after_what_runs_them_and_before_the_services(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a runtime with a poller still finishing a batch, and an embedded Postgres
    order: list[str] = []
    monkeypatch.setattr(connection, "close_pool", lambda: order.append("pool closed"))
    monkeypatch.setattr(cache, "reset_redis", lambda: order.append("redis client closed"))
    runtime = LocalRuntime(LocalConfig())
    runtime._stoppers.append(("poller", lambda: order.append("poller stopped")))
    runtime._services.append(("embedded Postgres", lambda: order.append("postgres stopped")))
    # When it stops
    runtime.stop()
    # Then the batch finished with the pool open, and the pool closed with Postgres still up
    assert order == ["poller stopped", "pool closed", "redis client closed", "postgres stopped"]


def test_the_archives_reader_and_writer_and_only_they_get_one_directory_under_the_data_folder(
    tmp_path: Path,
) -> None:
    # Given a runtime keeping its state in a folder of its own
    data_dir = tmp_path / "state"
    runtime = LocalRuntime(LocalConfig(data_dir=data_dir))
    # When it works out each function's own variables, as its start does
    own = runtime._own_environments()
    # Then the functions the wiring lets read or write the archive get its directory, the same
    # one, under the data folder, created; the others get nothing
    archive = data_dir / "archive"
    for fn in WIRING.functions:
        expected = {} if fn.archive == "none" else {"PULSE_ARCHIVE_DIR": str(archive)}
        assert own[fn.name] == expected, fn.name
    assert {fn.archive for fn in WIRING.functions} >= {"read", "write"}
    assert archive.is_dir()


def test_no_archive_directory_when_no_function_uses_the_archive(tmp_path: Path) -> None:
    wiring = dataclasses.replace(
        WIRING,
        functions=tuple(dataclasses.replace(fn, archive="none") for fn in WIRING.functions),
    )
    runtime = LocalRuntime(LocalConfig(data_dir=tmp_path), wiring=wiring)
    assert not any(runtime._own_environments().values())
    assert not (tmp_path / "archive").exists()


def test_make_rollup_gives_the_rollup_the_directory_make_up_gives_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a shell that names another directory, and a rollup that reports what it sees
    from localcloud import cli
    from localcloud.lambdas import LocalFunction

    monkeypatch.setenv("LOCAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PULSE_ARCHIVE_DIR", str(tmp_path / "elsewhere"))
    seen: list[str] = []
    monkeypatch.setattr(
        LocalFunction,
        "invoke",
        lambda self, event, **_: seen.append(os.environ["PULSE_ARCHIVE_DIR"]) or {"ok": True},
    )
    # When `make rollup` runs it in its own process
    assert cli.main(["rollup"]) == 0
    # Then it writes to the directory `make up` gives the rollup and the api, created
    runtime = LocalRuntime(LocalConfig(data_dir=tmp_path))
    assert seen == [runtime.own_environment(WIRING.function("rollup"))["PULSE_ARCHIVE_DIR"]]
    assert seen == [str(tmp_path / "archive")]
    assert (tmp_path / "archive").is_dir()
    assert capsys.readouterr().out.strip() == '{"ok": true}'
