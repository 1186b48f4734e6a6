"""Execution environments: each function runs in worker processes of its own, as Lambda runs it.

An environment is one process that imports the function's handler once (its cold start, timed)
and then serves one invocation at a time, keeping its module state (connection pools, caches)
between invocations (warm starts), as a Lambda execution environment does. A function has up to
``concurrency`` environments; an invocation takes an idle one, or starts one while under the cap,
or waits for one to come free.

What Lambda does to a misbehaving environment, this does too:
- the handler raises: the error comes back (``FunctionError``) and the environment is kept;
- the process dies (a crash, ``os._exit``, the OOM killer): ``FunctionCrashed``, and the next
  invocation starts a new environment;
- the invocation runs past the function's timeout: the process is killed, ``FunctionTimeout``.

An environment is a fresh interpreter (``python -m localcloud.environments HANDLER FD``: a fork
of the threaded runtime could copy a held lock, and multiprocessing's spawn would import the
runtime's whole ``__main__``), talking to the runtime over a socket pair. It inherits the
runtime's environment variables, ignores the terminal's Ctrl-C (the runtime stops it in order),
and exits when the runtime is gone (its socket closes).
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger("localcloud.environments")

START_TIMEOUT_S = 60.0


class FunctionError(Exception):
    """The handler raised; ``error_type`` and ``trace`` are the ones Lambda would report."""

    def __init__(self, error_type: str, message: str, trace: str = "") -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type, self.message, self.trace = error_type, message, trace


class FunctionCrashed(FunctionError):
    """The environment's process died during the invocation (Lambda's Runtime.ExitError)."""


class EnvironmentTimeout(Exception):
    """The invocation ran past the function's timeout; its environment was stopped."""


def _serve(handler_path: str, conn: Connection) -> None:
    """The environment's process: cold start, then one invocation at a time until the pipe
    closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from localcloud.lambdas import LambdaContext

    started = time.perf_counter()
    try:
        module_name, _, attr = handler_path.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attr)
    except BaseException as exc:
        conn.send(("init_error", type(exc).__name__, str(exc), traceback.format_exc()))
        return
    conn.send(("ready", (time.perf_counter() - started) * 1000))
    # LOCAL_PROFILE_DIR: profile the CPU of the warm invocations (from the 20th on, once the
    # first ones have loaded what the handler imports on first use) into DIR/NAME-PID.prof.
    profile_dir = os.environ.get("LOCAL_PROFILE_DIR")
    profiler = None
    invocations = 0
    while True:
        if profile_dir and invocations == 20:
            import cProfile

            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
        invocations += 1
        try:
            event, context_fields = conn.recv()
        except (EOFError, OSError):
            if profiler is not None:
                profiler.disable()
                name = handler_path.rsplit(".", 2)[-2]
                profiler.dump_stats(os.path.join(profile_dir or ".", f"{name}-{os.getpid()}.prof"))
            return  # the runtime is gone
        context = LambdaContext(**context_fields)
        try:
            result = handler(event, context)
        except Exception as exc:
            conn.send(("error", type(exc).__name__, str(exc), traceback.format_exc()))
            continue
        conn.send(("ok", result))


@dataclass
class ExecutionEnvironment:
    """One worker process of a function."""

    function_name: str
    process: subprocess.Popen[bytes]
    conn: Connection
    init_ms: float

    @classmethod
    def start(
        cls,
        function_name: str,
        handler_path: str,
        environment: dict[str, str] | None = None,
    ) -> ExecutionEnvironment:
        """A new process with the runtime's environment variables and ``environment`` (the
        function's own, as its configuration sets them in Lambda) on top."""
        ours, theirs = socket.socketpair()
        with theirs:
            process = subprocess.Popen(
                [sys.executable, "-m", "localcloud.environments", handler_path]
                + [str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                env={**os.environ, **environment} if environment else None,
            )
        conn = Connection(ours.detach())
        if not conn.poll(START_TIMEOUT_S):
            process.kill()
            process.wait()
            conn.close()
            raise FunctionError("Runtime.InitTimeout", f"{function_name} did not start")
        try:
            message = conn.recv()
        except (EOFError, OSError):
            process.wait()
            conn.close()
            raise FunctionCrashed(
                "Runtime.ExitError", f"{function_name} exited during its cold start"
            ) from None
        if message[0] != "ready":
            process.wait(5)
            conn.close()
            raise FunctionError(*message[1:])
        return cls(function_name, process, conn, init_ms=message[1])

    @property
    def pid(self) -> int:
        return self.process.pid

    def invoke(self, event: Any, context_fields: dict[str, Any], timeout_s: float) -> Any:
        try:
            self.conn.send((event, context_fields))
            if not self.conn.poll(timeout_s):
                self.stop()
                raise EnvironmentTimeout(f"{self.function_name} ran past {timeout_s:g} s")
            message = self.conn.recv()
        except (EOFError, OSError):
            self.stop()
            code = self.process.returncode
            raise FunctionCrashed(
                "Runtime.ExitError",
                f"{self.function_name}'s environment exited (code {code}) during an invocation",
            ) from None
        if message[0] == "ok":
            return message[1]
        raise FunctionError(*message[1:])

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace_s: float = 0.0) -> None:
        self.conn.close()  # the process sees its socket close and returns
        try:
            self.process.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


@dataclass
class EnvironmentPool:
    """Up to ``concurrency`` environments of one function; idle ones are reused newest first."""

    function_name: str
    handler_path: str
    concurrency: int
    # Variables of this function alone, on top of the runtime's (``ExecutionEnvironment.start``).
    environment: dict[str, str] = field(default_factory=dict)
    idle: list[ExecutionEnvironment] = field(default_factory=list)
    live: int = 0
    cold_starts: int = 0
    starting: bool = False
    closed: bool = False
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def acquire(self) -> ExecutionEnvironment:
        """An idle environment, else a new one (while under the cap, one cold start at a time),
        else the first to come free."""
        with self._cond:
            while True:
                if self.closed:
                    raise FunctionError("Runtime.Stopped", f"{self.function_name} is stopping")
                if self.idle:
                    return self.idle.pop()
                # One cold start at a time: a burst onto a cold function would otherwise start
                # every environment at once, and on a small machine each would then take long
                # enough to time out its first invocation.
                if self.live < self.concurrency and not self.starting:
                    self.live += 1
                    self.cold_starts += 1
                    self.starting = True
                    break
                self._cond.wait()
        try:
            return ExecutionEnvironment.start(
                self.function_name, self.handler_path, self.environment
            )
        except BaseException:
            self._forget()
            raise
        finally:
            with self._cond:
                self.starting = False
                self._cond.notify_all()

    def release(self, env: ExecutionEnvironment) -> None:
        """Give back an environment after an invocation: kept if its process lives."""
        with self._cond:
            if env.alive and not self.closed:
                self.idle.append(env)
                self._cond.notify_all()
                return
        env.stop()
        self._forget()

    def _forget(self) -> None:
        with self._cond:
            self.live -= 1
            self._cond.notify_all()

    def invoke(
        self, event: Any, context_fields: Callable[[], dict[str, Any]], timeout_s: float
    ) -> Any:
        """Invoke in an environment; the context (and its deadline) is made once the invocation
        has one, as Lambda's clock starts when the environment takes the event."""
        env = self.acquire()
        try:
            return env.invoke(event, context_fields(), timeout_s)
        finally:
            self.release(env)

    def warm(self, count: int = 1) -> float:
        """Have ``count`` environments (at most the concurrency) started now and idle; returns
        the first one's cold start, in ms."""
        held = [self.acquire() for _ in range(min(count, self.concurrency))]
        for env in held:
            self.release(env)
        return held[0].init_ms

    def pids(self) -> list[int]:
        with self._cond:
            return [env.pid for env in self.idle]

    def shutdown(self, grace_s: float = 5.0) -> None:
        """Stop every idle environment, and those in use as they come back."""
        with self._cond:
            self.closed = True
            envs, self.idle = self.idle, []
            self._cond.notify_all()
        for env in envs:
            env.stop(grace_s)
            self._forget()


def default_concurrency() -> int:
    """Environments a function without a declared concurrency may have at once locally."""
    return max(2, min(4, (os.cpu_count() or 2) * 2))


if __name__ == "__main__":
    _serve(sys.argv[1], Connection(int(sys.argv[2])))
