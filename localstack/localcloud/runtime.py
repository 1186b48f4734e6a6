"""Start and stop the whole local platform: services, emulator, migrations, gateways."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from localcloud import services
from localcloud.aws import AwsEmulator, provision
from localcloud.config import LocalConfig
from localcloud.demo_account import DemoAccount, ensure_demo_account
from localcloud.http_gateway import HttpGateway
from localcloud.kinesis import KinesisServer
from localcloud.lambdas import LocalFunction
from localcloud.poller import CheckpointStore, StreamPoller
from localcloud.scheduler import Scheduler
from localcloud.servers import listen, serve_in_thread
from localcloud.static_site import StaticSite
from localcloud.ws_gateway import WebSocketGateway
from pulse.wiring import WIRING, Function, Wiring

log = logging.getLogger("localcloud")

ARCHIVE_DIR_SETTING = "PULSE_ARCHIVE_DIR"


@dataclass
class LocalRuntime:
    config: LocalConfig
    wiring: Wiring = WIRING
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    pollers: list[StreamPoller] = field(default_factory=list)
    demo: DemoAccount | None = None
    kinesis: KinesisServer | None = None
    # On stop: the front doors (servers, then the gateways' pools) close first, newest first,
    # and the stream is drained; then what else runs the functions (pollers, scheduler); then the
    # functions' connection pools close; then the services they connect to stop.
    _front_doors: list[tuple[str, object]] = field(default_factory=list)
    _stoppers: list[tuple[str, object]] = field(default_factory=list)
    _services: list[tuple[str, object]] = field(default_factory=list)
    # Listening sockets bound at the start, until their server takes them.
    _sockets: dict[str, socket.socket] = field(default_factory=dict)

    @property
    def http_url(self) -> str:
        return f"http://{self.config.host}:{self.config.http_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.config.ws_port}"

    @property
    def ws_management_url(self) -> str:
        """The local WebSocket gateway's ``@connections`` API, under the declared stage."""
        return f"http://{self.config.host}:{self.config.ws_port}/{self.wiring.websocket_stage}"

    def _concurrency(self, spec: Function) -> int | None:
        """Execution environments a function may have at once (None: run it in this process)."""
        if not self.config.isolate_functions:
            return None
        return spec.reserved_concurrency or self.config.function_concurrency or None

    @property
    def kinesis_url(self) -> str:
        return self.kinesis.endpoint if self.kinesis else ""

    @property
    def static_url(self) -> str:
        return f"http://{self.config.host}:{self.config.static_port}"

    def _serve(self, app: object, name: str, **options: Any) -> None:
        server = serve_in_thread(
            app, host=self.config.host, name=name, sock=self._sockets.pop(name), **options
        )
        self._front_doors.append((name, server.stop))

    def _bind_ports(self) -> None:
        """Bind every port of the runtime before anything slow, and write the ports the OS
        chose for those set to 0 back into the settings."""
        cfg = self.config
        wanted = {
            "http-gateway": ("http_port", "LOCAL_HTTP_PORT"),
            "ws-gateway": ("ws_port", "LOCAL_WS_PORT"),
            "static-site": ("static_port", "LOCAL_STATIC_PORT"),
            "aws-emulator": ("aws_port", "LOCAL_AWS_PORT"),
        }
        for name, (attribute, setting) in wanted.items():
            sock = listen(cfg.host, getattr(cfg, attribute), setting)
            self._sockets[name] = sock
            setattr(cfg, attribute, int(sock.getsockname()[1]))

    def endpoints(self) -> dict[str, str]:
        """Where each part listens, as written to ``endpoints.json`` in the data folder."""
        return {
            "http": self.http_url,
            "ws": self.ws_url,
            "ws_management": self.ws_management_url,
            "site": self.static_url,
            "aws": self.config.aws_endpoint,
            "kinesis": self.kinesis_url,
        }

    def own_environment(self, spec: Function) -> dict[str, str]:
        """Variables of one function alone, as its configuration sets them in AWS: the archive's
        directory for the functions that read or write it (``PULSE_ARCHIVE_BUCKET`` in AWS), the
        same directory for all of them."""
        if spec.archive == "none":
            return {}
        return {ARCHIVE_DIR_SETTING: str(self.config.archive_dir)}

    def _own_environments(self) -> dict[str, dict[str, str]]:
        """Every function's own variables, by name; the archive's directory is created (under
        the data folder, kept across runs) when a function reads or writes it."""
        own = {fn.name: self.own_environment(fn) for fn in self.wiring.functions}
        if any(ARCHIVE_DIR_SETTING in variables for variables in own.values()):
            self.config.archive_dir.mkdir(parents=True, exist_ok=True)
        return own

    def _function_environment(self, extra: dict[str, str]) -> None:
        cfg = self.config
        env = {
            "PULSE_ENVIRONMENT": os.environ.get("PULSE_ENVIRONMENT", "development"),
            "PULSE_DATABASE_URL": cfg.database_url,
            "PULSE_REDIS_URL": cfg.redis_url,
            "PULSE_REDIS_KEY_PREFIX": cfg.redis_key_prefix,
            # An execution environment serves one invocation at a time, as in Lambda: a small
            # pool each. In-process functions share one pool across the gateway's threads.
            "PULSE_DB_POOL_MAX": (
                "2" if cfg.isolate_functions else str(max(4, cfg.max_concurrency // 2))
            ),
            "AWS_ENDPOINT_URL": cfg.aws_endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": cfg.region,
            "AWS_REGION": cfg.region,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Pulse",
            # The custom metrics are CloudWatch's (embedded metric format on stdout); here they
            # would only fill the terminal. POWERTOOLS_METRICS_DISABLED=false shows them.
            "POWERTOOLS_METRICS_DISABLED": os.environ.get("POWERTOOLS_METRICS_DISABLED", "true"),
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "PULSE_WEBSOCKET_MANAGEMENT_URL": self.ws_management_url,
        }
        env.update(extra)
        os.environ.update(env)

    def start(self) -> None:
        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._bind_ports()
            # The functions' environment first: Powertools reads its log level at import.
            self._function_environment({})
            pg = services.ensure_postgres(cfg.database_url, cfg.data_dir)
            if pg:
                self._services.append(("embedded Postgres", pg.stop))
            redis_server = services.ensure_redis(cfg.redis_url, cfg.data_dir)
            if redis_server:
                self._services.append(("embedded Redis", redis_server.stop))
            if services.ensure_database(cfg.database_url):
                log.info("created database %s", services.database_name(cfg.database_url))

            from pulse.db.migrate import apply_migrations

            applied = apply_migrations(cfg.database_url)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))

            self.kinesis = KinesisServer(cfg.host, cfg.kinesis_port, cfg.data_dir / "kinesis")
            self.kinesis.start()
            self._services.append(("local Kinesis", self.kinesis.stop))
            aws = AwsEmulator(
                cfg.host,
                cfg.aws_port,
                cfg.region,
                endpoints={"kinesis": self.kinesis.endpoint},
                sock=self._sockets.pop("aws-emulator"),
            )
            aws.start()
            self._services.append(("AWS emulator", aws.stop))
            env = provision(aws, self.wiring, cfg.data_dir)
            env["AWS_ENDPOINT_URL_KINESIS"] = self.kinesis.endpoint
            own = self._own_environments()
            if not cfg.isolate_functions:
                # One process runs every function: the variables of each are everyone's.
                for variables in own.values():
                    env.update(variables)
            self._function_environment(env)

            self.functions = {
                fn.name: LocalFunction(fn, cfg.region, self._concurrency(fn), own[fn.name])
                for fn in self.wiring.functions
            }
            gateway = HttpGateway(
                self.wiring.http_routes,
                self.functions,
                domain_name=f"{cfg.host}:{cfg.http_port}",
                max_concurrency=cfg.max_concurrency,
            )
            self._front_doors.append(("HTTP gateway pool", gateway.pool.shutdown))
            self._serve(gateway, "http-gateway")
            ws_gateway = WebSocketGateway(
                self.wiring.websocket_routes,
                self.functions,
                domain_name=f"{cfg.host}:{cfg.ws_port}",
                stage=self.wiring.websocket_stage,
                max_concurrency=cfg.max_concurrency,
            )
            self._front_doors.append(("WebSocket gateway pool", ws_gateway.pool.shutdown))
            self._serve(ws_gateway, "ws-gateway", **ws_gateway.server_options())
            self.demo = ensure_demo_account(cfg.data_dir)
            self._serve(
                StaticSite(
                    api_base_url=self.http_url,
                    demo_key=self.demo.api_key,
                    websocket_url=f"{self.ws_url}/{self.wiring.websocket_stage}",
                ),
                "static-site",
            )
            for trigger in self.wiring.stream_triggers:
                poller = StreamPoller(
                    aws=aws,
                    trigger=trigger,
                    stream_name=env[f"PULSE_{trigger.stream.upper()}_STREAM"],
                    function=self.functions[trigger.function],
                    failure_log=cfg.data_dir / "failed-batches.jsonl",
                    checkpoints=CheckpointStore(cfg.data_dir / "kinesis" / "checkpoints"),
                    poll_interval_s=cfg.poll_interval_s,
                )
                poller.start()
                self.pollers.append(poller)
                self._stoppers.append((f"poller {trigger.function}", poller.stop))
            scheduler = Scheduler(
                self.wiring.schedules, self.functions, cfg.region, cfg.schedule_every_s
            )
            scheduler.start()
            self._stoppers.append(("scheduler", scheduler.stop))

            # Warm every function (one cold start each, side by side; the dashboard's "api"
            # function a few) before saying ready.
            def warm(name: str) -> float | None:
                count = cfg.api_environments_at_start if name == "api" else 1
                return self.functions[name].warm(count)

            with ThreadPoolExecutor(len(self.functions)) as warming:
                for name, init_ms in zip(
                    self.functions, warming.map(warm, self.functions), strict=True
                ):
                    if init_ms is not None:
                        log.info("%s: cold start %.0f ms", name, init_ms)
            (cfg.data_dir / "endpoints.json").write_text(json.dumps(self.endpoints(), indent=2))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        from pulse.cache import reset_redis
        from pulse.db.connection import close_pool

        # No new request, and those in flight finish: every 202 is in the stream after this.
        _stop_all(self._front_doors)
        self._drain()
        # The pools last: a function still running (a poller's batch, a request) must not find
        # them closed, nor open new ones that nothing closes.
        _stop_all(self._stoppers)
        for function in self.functions.values():
            function.shutdown()
        close_pool()
        reset_redis()
        _stop_all(self._services)
        for sock in self._sockets.values():  # bound, never served (a start that failed)
            sock.close()
        self._sockets.clear()
        # it names the ports of a running platform
        (self.config.data_dir / "endpoints.json").unlink(missing_ok=True)

    def _drain(self) -> None:
        """Let the event source mappings process what the stream holds, within the drain
        timeout; what is left stays in the stream (on disk) for the next start."""
        timeout = self.config.drain_timeout_s
        for poller in self.pollers:
            started = time.monotonic()
            if poller.drain(timeout):
                log.info("stream %s drained", poller.stream_name)
            else:
                log.warning(
                    "stream %s not drained in %.0f s: the rest is processed on the next start",
                    poller.stream_name,
                    self.config.drain_timeout_s,
                )
            timeout = max(0.0, timeout - (time.monotonic() - started))


def _stop_all(stoppers: list[tuple[str, object]]) -> None:
    """Run the stoppers, newest first, each even if one before it failed."""
    while stoppers:
        name, stopper = stoppers.pop()
        try:
            stopper()  # type: ignore[operator]
        except Exception as exc:  # keep stopping the rest
            log.warning("stopping %s failed: %s", name, exc)
