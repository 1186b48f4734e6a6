"""Stopping the local runtime: what runs the functions stops before their connections close."""

from __future__ import annotations

import pytest

from localcloud.config import LocalConfig
from localcloud.runtime import LocalRuntime
from pulse import cache
from pulse.db import connection


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
