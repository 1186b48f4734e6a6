"""Lambda invocation: the same ``handler(event, context)`` that runs in AWS.

``make up`` runs each function in execution environments of its own (worker processes,
``localcloud.environments``); ``LocalFunction`` without ``concurrency`` calls the handler in this
process instead (one-shot commands such as ``localcloud rollup``, and tests that hand it a
handler)."""

from __future__ import annotations

import importlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localcloud.environments import EnvironmentPool, EnvironmentTimeout
from pulse.wiring import Function

# A synchronous invocation's request and response payloads are capped at 6 MB in AWS.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
ACCOUNT_ID = "000000000000"


class PayloadTooLarge(Exception):
    pass


class FunctionTimeout(Exception):
    pass


@dataclass
class LambdaContext:
    """What the Lambda runtime hands a Python handler as ``context``."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: float
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.deadline_ms - time.time() * 1000))


class LocalFunction:
    """One declared function: resolves its handler once (a cold start) and invokes it, in this
    process, or, given a ``concurrency``, in up to that many execution environments.

    ``environment``: variables of this function alone (what its configuration sets in Lambda),
    which its execution environments get on top of the runtime's. A function run in this process
    shares the process's variables: whoever runs it so sets them there."""

    def __init__(
        self,
        spec: Function,
        region: str,
        concurrency: int | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.region = region
        self.environment = dict(environment or {})
        self.environments = (
            EnvironmentPool(f"pulse-{spec.name}", spec.handler, concurrency, self.environment)
            if concurrency
            else None
        )
        self._handler: Callable[[Any, Any], Any] | None = None
        self._lock = threading.Lock()
        self.invocations = 0  # invoked from many threads at once: counted under its own lock
        self._count_lock = threading.Lock()

    @property
    def handler(self) -> Callable[[Any, Any], Any]:
        if self._handler is None:
            with self._lock:
                if self._handler is None:
                    module_name, _, attr = self.spec.handler.rpartition(".")
                    self._handler = getattr(importlib.import_module(module_name), attr)
        return self._handler

    def context(self) -> LambdaContext:
        name = f"pulse-{self.spec.name}"
        return LambdaContext(
            function_name=name,
            memory_limit_in_mb=self.spec.memory_mb,
            invoked_function_arn=f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}",
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name=time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex,
            deadline_ms=time.time() * 1000 + self.spec.timeout_s * 1000,
        )

    def warm(self, count: int = 1) -> float | None:
        """Start ``count`` execution environments now (the first one's cold start, in ms), or
        import the handler."""
        if self.environments is None:
            self.handler  # noqa: B018
            return None
        return self.environments.warm(count)

    def shutdown(self) -> None:
        if self.environments is not None:
            self.environments.shutdown()

    def invoke(self, event: dict[str, Any], *, check_size: bool = True) -> Any:
        """Invoke synchronously, with the request and response payload limits of AWS."""
        if check_size and len(json.dumps(event)) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLarge(f"request payload over {MAX_PAYLOAD_BYTES} bytes")
        with self._count_lock:
            self.invocations += 1
        if self.environments is not None:
            # The environment stops an invocation at its timeout, from when it took the event.
            try:
                result = self.environments.invoke(
                    event, lambda: dict(vars(self.context())), float(self.spec.timeout_s)
                )
            except EnvironmentTimeout as exc:
                raise FunctionTimeout(str(exc)) from exc
        else:
            context = self.context()
            result = self.handler(event, context)
            if context.get_remaining_time_in_millis() <= 0:
                raise FunctionTimeout(f"{context.function_name} ran past {self.spec.timeout_s} s")
        if check_size and len(json.dumps(result, default=str)) > MAX_PAYLOAD_BYTES:
            raise PayloadTooLarge(f"response payload over {MAX_PAYLOAD_BYTES} bytes")
        return result
