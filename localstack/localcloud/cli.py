"""``python -m localcloud up`` (what ``make up`` runs) and ``python -m localcloud migrate``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from localcloud import services
from localcloud.config import REPO_ROOT, BadSetting, LocalConfig, load
from localcloud.runtime import LocalRuntime
from localcloud.servers import PortInUse


def _up(config: LocalConfig) -> int:
    runtime = LocalRuntime(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("starting the local platform …", flush=True)
    try:
        runtime.start()
    except PortInUse as exc:
        print(f"localcloud: {exc}", file=sys.stderr, flush=True)
        return 1
    base, site = runtime.http_url, runtime.static_url
    demo = runtime.demo
    assert demo is not None
    dashboard = (
        "log in with the demo login below"
        if (REPO_ROOT / "frontend" / "out" / "index.html").is_file()
        else "not built: run `make frontend`, or `make up`, which builds it"
    )
    note = (
        "created on this first start"
        if demo.created
        else "kept in " + str(config.data_dir / "demo.json")
    )
    print(
        "\nPulse is running locally (Ctrl-C stops everything):\n"
        f"  HTTP API       {base}/api/v1   (health: {base}/api/v1/health)\n"
        f"  WebSocket API  {runtime.ws_url}/?project_id=…&token=…   "
        f"(@connections: {runtime.ws_management_url})\n"
        f"  API docs       {base}/api/v1/docs\n"
        f"  Dashboard      {site}/   ({dashboard})\n"
        f"  Site           {site}/   (SDK: {site}/sdk/tracker.min.js; /api/* forwarded)\n"
        f"  Demo shop      {site}/demo/?key={demo.api_key}\n"
        f"  Demo login     {demo.email} / {demo.password}   ({note})\n"
        f"  AWS emulator   {config.aws_endpoint}   (Kinesis: {runtime.kinesis_url}, on disk)\n"
        f"  Postgres       {config.database_url}\n"
        f"  Redis          {config.redis_url}\n"
        f"  (these addresses are also in {config.data_dir / 'endpoints.json'})\n"
        "ready",
        flush=True,
    )
    stop.wait()
    print("\nstopping …", flush=True)
    runtime.stop()
    print("stopped", flush=True)
    return 0


def _migrate(config: LocalConfig) -> int:
    from pulse.db.migrate import apply_migrations

    pg = services.ensure_postgres(config.database_url, config.data_dir)
    try:
        services.ensure_database(config.database_url)
        applied = apply_migrations(config.database_url)
        print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    finally:
        if pg:
            pg.stop()
    return 0


def _aws(config: LocalConfig) -> int:
    """Only the AWS emulator, in the foreground (benchmarks run it in a process of its own)."""
    from localcloud.aws import AwsEmulator

    aws = AwsEmulator(config.host, config.aws_port, config.region)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    aws.start()
    print(f"AWS emulator on {aws.endpoint}\nready", flush=True)
    stop.wait()
    aws.stop()
    return 0


def _rollup(config: LocalConfig, start: str | None, end: str | None, project: str | None) -> int:
    """Run the rollup function once, as the schedule does, or over a range (a backfill)."""
    import json
    import os

    from localcloud.lambdas import LocalFunction
    from pulse.wiring import WIRING

    os.environ.setdefault("PULSE_DATABASE_URL", config.database_url)
    os.environ.setdefault("PULSE_REDIS_URL", config.redis_url)
    os.environ.setdefault("PULSE_REDIS_KEY_PREFIX", config.redis_key_prefix)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from localcloud.runtime import ARCHIVE_DIR_SETTING, LocalRuntime
    from localcloud.scheduler import scheduled_event

    spec = WIRING.function("rollup")
    # It runs in this process, so its own variables go into the process's environment: the
    # archive's directory `make up` gives the rollup and the api, whatever the shell says.
    own = LocalRuntime(config).own_environment(spec)
    if ARCHIVE_DIR_SETTING in own:
        config.archive_dir.mkdir(parents=True, exist_ok=True)
    os.environ.update(own)
    function = LocalFunction(spec, config.region)
    if start or end:
        if not (start and end):
            print("give both --from and --to", file=sys.stderr)
            return 2
        event: dict[str, object] = {"backfill": {"from": start, "to": end, "project_id": project}}
    else:
        event = scheduled_event("pulse-rollup-manual", config.region)
    print(json.dumps(function.invoke(event, check_size=False)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localcloud", description=__doc__)
    parser.add_argument("command", choices=["up", "migrate", "aws", "rollup", "tail"])
    parser.add_argument("project_id", nargs="?", help="tail: the project whose events to print")
    parser.add_argument("--json", action="store_true", help="tail: one JSON event a line")
    parser.add_argument("--from", dest="start", help="rollup: backfill from (ISO 8601)")
    parser.add_argument("--to", dest="end", help="rollup: backfill to (ISO 8601, exclusive)")
    parser.add_argument("--project", help="rollup: only this project id")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr
    )
    for noisy in ("werkzeug", "mangum", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        config = load()
    except BadSetting as exc:
        print(f"localcloud: {exc}", file=sys.stderr, flush=True)
        return 2
    if args.command == "tail":
        from localcloud.tail import tail

        if not args.project_id:
            parser.error("tail needs a project id: python -m localcloud tail PROJECT_ID")
        return tail(config, args.project_id, as_json=args.json)
    if args.command == "rollup":
        return _rollup(config, args.start, args.end, args.project)
    return {"up": _up, "migrate": _migrate, "aws": _aws}[args.command](config)
