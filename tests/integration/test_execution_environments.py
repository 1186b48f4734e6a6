"""Functions run as Lambda runs them: execution environments of their own (worker processes),
module state per environment, cold and warm starts, and a crash or a timeout confined to the
environment it happened in."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from localcloud.environments import FunctionCrashed, FunctionError
from localcloud.lambdas import FunctionTimeout, LocalFunction
from pulse.wiring import Function


def _function(handler: str, concurrency: int, timeout_s: int = 5) -> LocalFunction:
    spec = Function(name="t", handler=handler, description="", timeout_s=timeout_s)
    return LocalFunction(spec, "us-east-1", concurrency=concurrency)


@pytest.fixture
def counting() -> Any:
    fn = _function("tests.lambda_handlers.count", concurrency=2)
    yield fn
    fn.shutdown()


def test_an_environment_is_another_process_that_keeps_its_state_between_invocations(
    counting,
) -> None:
    first = counting.invoke({})
    second = counting.invoke({})
    assert first["pid"] != os.getpid()
    assert second["pid"] == first["pid"]  # a warm start: the same environment
    assert (first["invocations"], second["invocations"]) == (1, 2)
    assert first["request_id"] != second["request_id"]
    assert 0 < first["remaining_ms"] <= 5000
    assert counting.environments.cold_starts == 1


def test_concurrent_invocations_get_environments_of_their_own_up_to_the_concurrency(
    counting,
) -> None:
    results: list[dict[str, Any]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def call() -> None:
        start.wait()
        result = counting.invoke({"sleep_s": 0.5})
        with lock:
            results.append(result)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pids = {r["pid"] for r in results}
    assert len(pids) == 2  # the two extra invocations waited for an environment to come free
    assert counting.environments.live == 2
    # each environment counts its own invocations: module state is not shared
    assert sorted(r["invocations"] for r in results) == [1, 1, 2, 2]


def test_an_error_comes_back_and_the_environment_stays() -> None:
    fn = _function("tests.lambda_handlers.fail", concurrency=1)
    try:
        pid = fn.invoke({})["pid"]
        with pytest.raises(FunctionError) as raised:
            fn.invoke({"raise": "bad input"})
        assert raised.value.error_type == "ValueError"
        assert "bad input" in raised.value.message
        assert fn.invoke({})["pid"] == pid
    finally:
        fn.shutdown()


def test_a_crash_is_confined_to_its_environment_and_the_next_invocation_starts_afresh() -> None:
    fn = _function("tests.lambda_handlers.fail", concurrency=1)
    try:
        pid = fn.invoke({})["pid"]
        with pytest.raises(FunctionCrashed):
            fn.invoke({"exit": True})
        again = fn.invoke({})["pid"]
        assert again != pid
        assert fn.environments.cold_starts == 2
    finally:
        fn.shutdown()


def test_an_invocation_past_the_timeout_is_stopped_with_its_environment() -> None:
    fn = _function("tests.lambda_handlers.fail", concurrency=1, timeout_s=1)
    try:
        pid = fn.invoke({})["pid"]
        with pytest.raises(FunctionTimeout):
            fn.invoke({"sleep_s": 30})
        assert fn.invoke({})["pid"] != pid
    finally:
        fn.shutdown()


def test_a_functions_own_variables_reach_its_environments_and_no_other_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the runtime's variables, and a function with a variable of its own (as the local
    # runtime gives the archive's directory to the archive's functions only)
    monkeypatch.setenv("PULSE_PROBE_SHARED", "everyone")
    monkeypatch.delenv("PULSE_ARCHIVE_DIR", raising=False)
    spec = Function(name="t", handler="tests.lambda_handlers.environ", description="")
    own = LocalFunction(
        spec, "us-east-1", concurrency=1, environment={"PULSE_ARCHIVE_DIR": "/archive"}
    )
    other = LocalFunction(spec, "us-east-1", concurrency=1)
    try:
        # Then its environments see it, another function's do not, and the runtime keeps
        # its own environment as it was; both see the runtime's variables
        assert own.invoke({"name": "PULSE_ARCHIVE_DIR"})["value"] == "/archive"
        assert other.invoke({"name": "PULSE_ARCHIVE_DIR"})["value"] is None
        assert "PULSE_ARCHIVE_DIR" not in os.environ
        for fn in (own, other):
            assert fn.invoke({"name": "PULSE_PROBE_SHARED"})["value"] == "everyone"
    finally:
        own.shutdown()
        other.shutdown()


def test_shutdown_stops_every_environment() -> None:
    fn = _function("tests.lambda_handlers.count", concurrency=2)
    fn.invoke({})
    [pid] = fn.environments.pids()
    fn.shutdown()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_gateway_answers_a_crash_and_a_timeout_as_the_http_api_does_and_stays_up() -> None:
    import httpx

    from localcloud.http_gateway import HttpGateway
    from localcloud.servers import listen, serve_in_thread
    from pulse.wiring import HttpRoute

    fn = _function("tests.lambda_handlers.http_fail", concurrency=1, timeout_s=1)
    gateway = HttpGateway(
        (HttpRoute("POST", "/f", "t"),), {"t": fn}, domain_name="local", max_concurrency=4
    )
    sock = listen("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = serve_in_thread(gateway, host="127.0.0.1", name="gw-test", sock=sock)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            pid = http.post("/f", json={}).json()["pid"]
            crashed = http.post("/f", json={"exit": True})
            assert (crashed.status_code, crashed.json()) == (
                500,
                {"message": "Internal Server Error"},
            )
            late = http.post("/f", json={"sleep_s": 30})
            assert (late.status_code, late.json()) == (503, {"message": "Service Unavailable"})
            after = http.post("/f", json={})
            assert after.status_code == 200
            assert after.json()["pid"] != pid  # a new environment after each of the two
    finally:
        server.should_exit = True
        gateway.pool.shutdown()
        fn.shutdown()


def test_time_spent_waiting_for_an_environment_does_not_count_against_the_timeout() -> None:
    # Given one environment, busy for most of the function's 1 s timeout
    fn = _function("tests.lambda_handlers.count", concurrency=1, timeout_s=1)
    try:
        fn.warm()
        busy = threading.Thread(target=fn.invoke, args=({"sleep_s": 0.8},))
        busy.start()
        time.sleep(0.1)
        # When another invocation waits for it, then runs for 0.4 s (1.1 s after it was made)
        result = fn.invoke({"sleep_s": 0.4})
        busy.join()
        # Then it completes: its clock started when the environment took it
        assert result["invocations"] == 2
    finally:
        fn.shutdown()


def test_warming_starts_that_many_environments_up_to_the_concurrency() -> None:
    fn = _function("tests.lambda_handlers.count", concurrency=2)
    try:
        first = fn.warm(3)  # one more than the concurrency allows
        assert first is not None and first > 0
        assert len(set(fn.environments.pids())) == 2
        assert fn.environments.cold_starts == 2
        # both are idle and warm: two invocations at once start nothing new
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: fn.invoke({}), range(2)))
        assert fn.environments.cold_starts == 2
    finally:
        fn.shutdown()
