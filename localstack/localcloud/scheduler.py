"""Local EventBridge schedules: invoke each scheduled function with a "Scheduled Event", once
at start (to catch up after downtime) and then at the declared rate."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from localcloud.lambdas import ACCOUNT_ID, LocalFunction
from pulse.wiring import Schedule

log = logging.getLogger("localcloud.scheduler")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_S = {"minute": 60, "hour": 3600, "day": 86400}


def rate_seconds(expression: str) -> int:
    match = _RATE.match(expression.strip())
    if not match:
        raise ValueError(f"the local scheduler runs rate(...) expressions, not {expression!r}")
    value, unit = int(match.group(1)), match.group(2).rstrip("s")
    if value < 1:
        raise ValueError(f"a rate must be positive: {expression!r}")
    return value * _UNIT_S[unit]


def scheduled_event(rule_name: str, region: str) -> dict[str, Any]:
    """The event EventBridge sends a target when a schedule fires."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }


class Scheduler:
    def __init__(
        self,
        schedules: tuple[Schedule, ...],
        functions: dict[str, LocalFunction],
        region: str,
        every_s: int = 0,
    ) -> None:
        self.jobs = [
            (s, functions[s.function], every_s or rate_seconds(s.expression)) for s in schedules
        ]
        self.region = region
        self.stopping = threading.Event()
        # Runs per function; several schedules may name one function, each on its own thread.
        self.fired: dict[str, int] = {}
        self._fired_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _loop(self, schedule: Schedule, function: LocalFunction, every_s: int) -> None:
        rule = f"pulse-{schedule.function}-schedule"
        while not self.stopping.is_set():
            try:
                function.invoke(scheduled_event(rule, self.region), check_size=False)
            except Exception:
                log.exception("scheduled run of %s failed", schedule.function)
            with self._fired_lock:
                self.fired[schedule.function] = self.fired.get(schedule.function, 0) + 1
            self.stopping.wait(every_s)

    def start(self) -> None:
        for schedule, function, every_s in self.jobs:
            t = threading.Thread(
                target=self._loop,
                args=(schedule, function, every_s),
                name=f"schedule-{schedule.function}",
                daemon=True,
            )
            t.start()
            self._threads.append(t)

    def stop(self) -> None:
        self.stopping.set()
        for t in self._threads:
            t.join(30)
