"""Start and stop the whole local platform: services, emulator, migrations, gateways."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from localcloud import services
from localcloud.aws import AwsEmulator, provision
from localcloud.config import LocalConfig
from localcloud.demo_account import DemoAccount, ensure_demo_account
from localcloud.http_gateway import HttpGateway
from localcloud.lambdas import LocalFunction
from localcloud.poller import StreamPoller
from localcloud.scheduler import Scheduler
from localcloud.servers import serve_in_thread
from localcloud.static_site import StaticSite
from localcloud.ws_gateway import WebSocketGateway
from pulse.wiring import WIRING, Wiring

log = logging.getLogger("localcloud")


@dataclass
class LocalRuntime:
    config: LocalConfig
    wiring: Wiring = WIRING
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    pollers: list[StreamPoller] = field(default_factory=list)
    demo: DemoAccount | None = None
    _stoppers: list[tuple[str, object]] = field(default_factory=list)

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

    @property
    def static_url(self) -> str:
        return f"http://{self.config.host}:{self.config.static_port}"

    def _serve(self, app: object, port: int, name: str, **options: Any) -> None:
        server = serve_in_thread(app, host=self.config.host, port=port, name=name, **options)
        self._stoppers.append((name, lambda: setattr(server, "should_exit", True)))

    def _function_environment(self, extra: dict[str, str]) -> None:
        cfg = self.config
        env = {
            "PULSE_ENVIRONMENT": os.environ.get("PULSE_ENVIRONMENT", "development"),
            "PULSE_DATABASE_URL": cfg.database_url,
            "PULSE_REDIS_URL": cfg.redis_url,
            "PULSE_REDIS_KEY_PREFIX": cfg.redis_key_prefix,
            "PULSE_DB_POOL_MAX": str(max(4, cfg.max_concurrency // 2)),
            "AWS_ENDPOINT_URL": cfg.aws_endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": cfg.region,
            "AWS_REGION": cfg.region,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Pulse",
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            "PULSE_WEBSOCKET_MANAGEMENT_URL": self.ws_management_url,
        }
        env.update(extra)
        os.environ.update(env)

    def start(self) -> None:
        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        # The functions' environment first: Powertools reads its log level at import.
        self._function_environment({})
        try:
            pg = services.ensure_postgres(cfg.database_url, cfg.data_dir)
            if pg:
                self._stoppers.append(("embedded Postgres", pg.stop))
            redis_server = services.ensure_redis(cfg.redis_url, cfg.data_dir)
            if redis_server:
                self._stoppers.append(("embedded Redis", redis_server.stop))
            if services.ensure_database(cfg.database_url):
                log.info("created database %s", services.database_name(cfg.database_url))

            from pulse.db.migrate import apply_migrations

            applied = apply_migrations(cfg.database_url)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))

            aws = AwsEmulator(cfg.host, cfg.aws_port, cfg.region)
            aws.start()
            self._stoppers.append(("AWS emulator", aws.stop))
            env = provision(aws, self.wiring, cfg.data_dir)
            self._function_environment(env)

            self.functions = {
                fn.name: LocalFunction(fn, cfg.region) for fn in self.wiring.functions
            }
            gateway = HttpGateway(
                self.wiring.http_routes,
                self.functions,
                domain_name=f"{cfg.host}:{cfg.http_port}",
                max_concurrency=cfg.max_concurrency,
            )
            self._stoppers.append(("HTTP gateway pool", gateway.pool.shutdown))
            self._serve(gateway, cfg.http_port, "http-gateway")
            ws_gateway = WebSocketGateway(
                self.wiring.websocket_routes,
                self.functions,
                domain_name=f"{cfg.host}:{cfg.ws_port}",
                stage=self.wiring.websocket_stage,
                max_concurrency=cfg.max_concurrency,
            )
            self._stoppers.append(("WebSocket gateway pool", ws_gateway.pool.shutdown))
            self._serve(ws_gateway, cfg.ws_port, "ws-gateway", **ws_gateway.server_options())
            self.demo = ensure_demo_account(cfg.data_dir)
            self._serve(
                StaticSite(
                    api_base_url=self.http_url,
                    demo_key=self.demo.api_key,
                    websocket_url=f"{self.ws_url}/{self.wiring.websocket_stage}",
                ),
                cfg.static_port,
                "static-site",
            )
            for trigger in self.wiring.stream_triggers:
                poller = StreamPoller(
                    aws=aws,
                    trigger=trigger,
                    stream_name=env[f"PULSE_{trigger.stream.upper()}_STREAM"],
                    function=self.functions[trigger.function],
                    failure_log=cfg.data_dir / "failed-batches.jsonl",
                )
                poller.start()
                self.pollers.append(poller)
                self._stoppers.append((f"poller {trigger.function}", poller.stop))
            scheduler = Scheduler(
                self.wiring.schedules, self.functions, cfg.region, cfg.schedule_every_s
            )
            scheduler.start()
            self._stoppers.append(("scheduler", scheduler.stop))
            # Warm every function (its cold start) before saying ready.
            for function in self.functions.values():
                function.handler  # noqa: B018
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        from pulse.cache import reset_redis
        from pulse.db.connection import close_pool

        close_pool()
        reset_redis()
        while self._stoppers:
            name, stopper = self._stoppers.pop()
            try:
                stopper()  # type: ignore[operator]
            except Exception as exc:  # keep stopping the rest
                log.warning("stopping %s failed: %s", name, exc)
