"""What Pulse costs on AWS a month, line by line, at a few volumes, from one file of prices and
measured durations (docs/prices.json); prints the tables of docs/cost.md.

    .venv/bin/python scripts/cost_model.py                 # markdown tables, every scenario
    .venv/bin/python scripts/cost_model.py --json          # the same figures as JSON
    .venv/bin/python scripts/cost_model.py --prices other.json --volumes 5e6 5e7

Pure arithmetic: ``monthly_cost(prices, events, scenario)`` returns the line items; nothing here
talks to AWS. Refresh the prices in the JSON file (each names its source and whether it was read
on the date given), run this, and paste the output into docs/cost.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICES = Path(__file__).resolve().parents[1] / "docs" / "prices.json"
GB = 1024**3
MILLION = 1_000_000
SECONDS_PER_MONTH = 730 * 3600


@dataclass(frozen=True)
class Line:
    item: str
    dollars: float
    detail: str


def load(path: Path = PRICES) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def workload_for(prices: dict[str, Any], scenario: str) -> dict[str, Any]:
    """The workload assumptions with the scenario's overrides applied; an override's key may
    name a nested value with dots (``functions.ingest.memory_mb``)."""
    workload = json.loads(json.dumps(prices["workload"]))  # a deep copy
    for key, value in prices["scenarios"][scenario]["overrides"].items():
        *path, last = key.split(".")
        target = workload
        for part in path:
            target = target[part]
        target[last] = value
    return workload


def sizing_for(prices: dict[str, Any], events: float, scenario: str = "default") -> dict[str, Any]:
    """The instance sizes for ``events`` a month: the scenario's own ``sizing`` if it has one,
    else the file's."""
    table = prices["scenarios"].get(scenario, {}).get("sizing") or prices["sizing"]
    for size in table:
        if events <= size["up_to_events"]:
            return dict(size)
    return dict(table[-1])


def record_bytes(work: dict[str, Any]) -> float:
    """Bytes of one Kinesis record: the envelope (project, times, hash, visit) and the events of
    one ingest request (both measured by scripts/bench/storage.py)."""
    return float(
        work["record_envelope_bytes"]
        + work["events_per_ingest_request"] * work["record_bytes_per_event"]
    )


def archive_requests(work: dict[str, Any], hours: float) -> tuple[float, float]:
    """PUTs and GETs of the columnar archive a month: one object a project-day and its rewrites
    (late events); each new execution environment of an archive function fetching every
    project-day kept once."""
    days = hours / 24
    projects = work["archive_projects"]
    puts = projects * days * (1 + work["archive_rewrites_per_day"])
    gets = work["archive_environments_per_month"] * projects * days * work["storage_months"]
    return float(puts), float(gets)


def tiered(amount: float, tiers: list[list[float | None]], free: float = 0) -> float:
    """Cost of ``amount`` units priced by ``tiers`` of ``[up_to, unit_price]`` (cumulative
    upper bounds, ``None`` for the last), after ``free`` units."""
    cost, lower = 0.0, 0.0
    for up_to, unit_price in tiers:
        assert unit_price is not None
        ceiling = math.inf if up_to is None else float(up_to)
        billable = min(amount, ceiling) - max(lower, float(free))
        if billable > 0:
            cost += billable * unit_price
        lower = ceiling
    return cost


def gb_seconds(invocations: float, ms: float, memory_mb: int) -> float:
    return invocations * ms / 1000 * memory_mb / 1024


def shards_needed(requests: float, record_size: float) -> int:
    """Provisioned shards for the peak hour at 3x the average: 1,000 records or 1 MB a second
    each."""
    peak_records = 3 * requests / SECONDS_PER_MONTH
    peak_mb = 3 * requests * record_size / SECONDS_PER_MONTH / 1024**2
    return max(1, math.ceil(max(peak_records / 1000, peak_mb)))


def monthly_cost(
    prices: dict[str, Any],
    events: float,
    scenario: str = "default",
    size: dict[str, Any] | None = None,
) -> list[Line]:
    """Every line item of a month with ``events`` ingested events (on the instance sizes of
    ``prices["sizing"]`` for that volume, or on ``size``)."""
    aws, work = prices["aws"], workload_for(prices, scenario)
    hours = prices["hours_per_month"]
    size = size or sizing_for(prices, events, scenario)
    fns = work["functions"]
    path = work["ingest_path"]
    if path not in ("function_url", "http_api", "cloudfront"):
        raise ValueError(f"unknown ingest_path {path!r}")
    lines: list[Line] = []

    requests = events / work["events_per_ingest_request"]
    record_size = record_bytes(work)
    dashboard = work["dashboard_requests_per_month"]

    # API Gateway HTTP API: the dashboard's calls, and ingest unless it has its own URL.
    api_requests = dashboard + (requests if path != "function_url" else 0.0)
    http = aws["http_api"]
    http_cost = tiered(
        api_requests / MILLION,
        [[300, http["per_million_first_300m"]], [None, http["per_million_after"]]],
    )
    lines.append(
        Line("API Gateway HTTP API", http_cost, f"{api_requests / MILLION:,.1f}M requests")
    )

    # CloudFront: the SDK and the dashboard, /api/* (each with the client-IP function), and
    # ingest when the tracker posts to its own origin.
    cf = aws["cloudfront"]
    sdk_loads = events * work["sdk_loads_per_event"]
    api_through_cf = dashboard + (requests if path == "cloudfront" else 0.0)
    cf_requests = sdk_loads + api_through_cf
    out_bytes = sdk_loads * work["sdk_bytes"]
    origin_bytes = 0.0
    if path == "cloudfront":
        out_bytes += requests * work["ingest_response_bytes"]
        origin_bytes += requests * record_size
    cf_cost = (
        max(0.0, cf_requests - cf["free_requests"]) / 10_000 * cf["https_per_10k"]
        + max(0.0, out_bytes / GB - cf["free_out_gb"]) * cf["out_per_gb"]
        + origin_bytes / GB * cf["to_origin_per_gb"]
        + max(0.0, api_through_cf - cf["free_function_invocations"])
        / MILLION
        * cf["function_per_million"]
    )
    lines.append(Line("CloudFront", cf_cost, f"{cf_requests / MILLION:,.1f}M requests"))

    # Kinesis shards: what the consumer polls (about once a second a shard) and what is billed.
    if work["kinesis_mode"] == "provisioned":
        shards = max(work["stream_shards"], shards_needed(requests, record_size))
    else:
        shards = work["on_demand_shards"]

    # Lambda: requests and GB-seconds per function, the always-free tier off the total.
    polls = min(requests, SECONDS_PER_MONTH * shards)
    processor_runs = max(requests / 500, polls)
    runs = {
        "ingest": (requests, fns["ingest"]["ms_per_request"]),
        "processor": (
            processor_runs,
            fns["processor"]["ms_per_invocation"]
            + fns["processor"]["ms_per_event"] * events / max(processor_runs, 1),
        ),
        "api": (dashboard, fns["api"]["ms_per_request"]),
        "rollup": (
            fns["rollup"]["runs_per_month"],
            fns["rollup"]["ms_per_run"]
            + fns["rollup"]["ms_per_event"] * events / fns["rollup"]["runs_per_month"],
        ),
        "ws": (work["ws_messages_per_month"], fns["ws"]["ms_per_message"]),
    }
    lam = aws["lambda"]
    invocations = sum(n for n, _ in runs.values())
    seconds = sum(gb_seconds(n, ms, fns[name]["memory_mb"]) for name, (n, ms) in runs.items())
    lambda_cost = (
        max(0.0, invocations - lam["free_requests"]) / MILLION * lam["request_per_million"]
        + max(0.0, seconds - lam["free_gb_seconds"]) * lam["gb_second_arm"]
    )
    lines.append(
        Line(
            "Lambda (requests + GB-s, arm64)",
            lambda_cost,
            f"{invocations / MILLION:,.1f}M invocations, {seconds:,.0f} GB-s",
        )
    )

    # Kinesis.
    kinesis_bytes = requests * record_size
    if work["kinesis_mode"] == "provisioned":
        kp = aws["kinesis_provisioned"]
        units = requests * math.ceil(record_size / 1024 / kp["put_unit_kb"])
        kinesis_cost = (
            shards * hours * kp["shard_hour"] + units / MILLION * kp["put_units_per_million"]
        )
        more = "" if shards <= work["stream_shards"] else f" (raise shard_count to {shards})"
        detail = f"provisioned, {shards} shard(s){more}"
    else:
        kd = aws["kinesis_on_demand"]
        billed_gb = requests * math.ceil(record_size / 1024) * 1024 / GB
        kinesis_cost = (
            hours * kd["stream_hour"] + billed_gb * kd["per_gb_in"] + billed_gb * kd["per_gb_out"]
        )
        detail = f"on-demand, {billed_gb:,.1f} GB in and out"
    lines.append(Line("Kinesis", kinesis_cost, detail))

    # Postgres: instance, storage, RDS Proxy.
    rds = aws["rds"]
    instance = size["database"]
    stored_gb = events * work["storage_months"] * work["stored_bytes_per_event"] / GB
    lines.append(Line("RDS Postgres instance", hours * rds["instance_hour"][instance], instance))
    lines.append(
        Line(
            "RDS storage (gp3)",
            max(20.0, stored_gb) * rds["gp3_gb_month"],
            f"{max(20.0, stored_gb):,.0f} GB after {work['storage_months']} months",
        )
    )
    # The columnar archive in S3: a year of events at its bytes an event, the PUTs of the day
    # files and the GETs that fill the functions' caches.
    s3 = aws["s3"]
    if work["archive"]:
        archive_gb = events * work["storage_months"] * work["archive_bytes_per_event"] / GB
        puts, gets = archive_requests(work, hours)
        lines.append(
            Line(
                "S3 archive (Parquet)",
                archive_gb * s3["gb_month"]
                + puts / 1000 * s3["put_per_1000"]
                + gets / 1000 * s3["get_per_1000"],
                f"{archive_gb:,.1f} GB after {work['storage_months']} months, "
                f"{puts:,.0f} PUTs, {gets / MILLION:,.2f}M GETs",
            )
        )
    else:
        lines.append(Line("S3 archive (Parquet)", 0.0, "none"))
    if work["database_proxy"]:
        vcpus = max(rds["proxy_min_vcpus"], rds["instance_vcpus"][instance])
        proxy = Line("RDS Proxy", hours * vcpus * rds["proxy_vcpu_hour"], f"{vcpus} vCPU")
    else:
        proxy = Line("RDS Proxy", 0.0, "none (the default; -c pulse:databaseProxy=true adds it)")
    lines.append(proxy)

    # Redis.
    node = size["cache"]
    lines.append(Line("ElastiCache Redis", hours * aws["elasticache"]["node_hour"][node], node))

    # VPC: two interface endpoints (Secrets Manager, Kinesis), each in ``endpoint_azs`` AZs;
    # no NAT (IPv6 egress).
    vpc = aws["vpc"]
    endpoint_gb = kinesis_bytes / GB
    azs = work["endpoint_azs"]
    lines.append(
        Line(
            "VPC interface endpoints",
            2 * azs * hours * vpc["interface_endpoint_hour"]
            + endpoint_gb * vpc["interface_endpoint_per_gb"],
            f"Secrets Manager + Kinesis, {azs} AZ{'s' if azs != 1 else ''}",
        )
    )
    lines.append(
        Line(
            "VPC gateway endpoint (S3)",
            hours * vpc["gateway_endpoint_hour"] if work["archive"] else 0.0,
            "free: no hourly or per-GB charge" if work["archive"] else "none",
        )
    )
    lines.append(Line("NAT gateway", 0.0, "none: pushes leave over IPv6 (egress-only gateway)"))

    # CloudWatch: logs (platform lines unless filtered, each function's own lines and EMF
    # metrics), alarms, dashboard, the Powertools metrics; free tier off each.
    cw = aws["cloudwatch"]
    platform = (
        work["platform_log_bytes_per_invocation"] if work["system_log_level"] != "WARN" else 0
    )
    app_bytes = work["application_log_bytes"]
    log_bytes = sum(n * (platform + app_bytes[name]) for name, (n, _) in runs.items())
    log_gb = log_bytes / GB
    stored_log_gb = log_gb * work["log_retention_months"]
    cw_cost = (
        max(0.0, log_gb - cw["free_log_gb"]) * cw["logs_ingest_per_gb"]
        + stored_log_gb * cw["logs_store_per_gb"]
        + max(0, work["alarm_metrics"] - cw["free_alarm_metrics"]) * cw["alarm_metric_month"]
        + max(0, 1 - cw["free_dashboards"]) * cw["dashboard_month"]
        + max(0, work["custom_metrics"] - cw["free_custom_metrics"]) * cw["custom_metric_month"]
    )
    lines.append(Line("CloudWatch", cw_cost, f"{log_gb:,.1f} GB of logs, alarms, dashboard"))

    small = aws["small"]
    secrets = 3  # the database's, the JWT key, the edge secret
    lines.append(
        Line(
            "Secrets Manager, S3, SQS",
            secrets * small["secret_month"] + 0.05,
            f"{secrets} secrets",
        )
    )
    return lines


def marginal_per_million(prices: dict[str, Any], events: float, scenario: str) -> float:
    """What one more million events adds to the month at ``events``, on the same instance
    sizes: the per-request lines, storage, logs, endpoint traffic; the fixed floor cancels."""
    size = sizing_for(prices, events, scenario)
    here = total(monthly_cost(prices, events, scenario, size))
    return total(monthly_cost(prices, events + MILLION, scenario, size)) - here


def break_even(prices: dict[str, Any], scenario: str, target: float = 1.0) -> float | None:
    """The smallest volume (a 1-2-5 series of events a month from 1M to 10B) at which the
    month costs less than ``target`` per million events, or ``None``."""
    for exponent in range(6, 10):
        for mantissa in (1, 2, 5):
            volume = float(mantissa * 10**exponent)
            if per_million(monthly_cost(prices, volume, scenario), volume) < target:
                return volume
    return None


def total(lines: list[Line]) -> float:
    return sum(line.dollars for line in lines)


def per_million(lines: list[Line], events: float) -> float:
    return total(lines) / (events / MILLION)


def nat_alternative(prices: dict[str, Any]) -> float:
    """What the NAT route (``-c pulse:pushEgress=nat``) adds a month before traffic."""
    vpc = prices["aws"]["vpc"]
    return float(prices["hours_per_month"] * vpc["nat_gateway_hour"])


def peer_cost(peer: dict[str, Any], events: float) -> float | None:
    """A peer's monthly price for ``events``, or ``None`` where no price could be read."""
    if "tiers" in peer:
        return tiered(events, peer["tiers"], free=peer.get("free_events", 0))
    monthly = peer.get("monthly", {})
    value = monthly.get(str(int(events)))
    return None if value is None else float(value)


def volume_label(events: float) -> str:
    if events >= 1e9:
        return f"{events / 1e9:g}B"
    if events >= 1e6:
        return f"{events / 1e6:g}M"
    return f"{events:,.0f}"


def money(value: float | None) -> str:
    if value is None:
        return "not read"
    return f"${value:,.2f}" if value < 100 else f"${value:,.0f}"


def markdown(prices: dict[str, Any], volumes: list[float]) -> str:
    out: list[str] = []
    for scenario, spec in prices["scenarios"].items():
        out.append(f"### Scenario `{scenario}`\n\n{spec['about']}\n")
        tables = {v: monthly_cost(prices, v, scenario) for v in volumes}
        header = "| line item | " + " | ".join(f"{volume_label(v)} events" for v in volumes) + " |"
        out += [header, "|---|" + "---:|" * len(volumes)]
        for index, line in enumerate(tables[volumes[0]]):
            cells = [money(tables[v][index].dollars) for v in volumes]
            out.append(f"| {line.item} | " + " | ".join(cells) + " |")
        out.append(
            "| **total a month** | "
            + " | ".join(f"**{money(total(tables[v]))}**" for v in volumes)
            + " |"
        )
        out.append(
            "| **per million events** | "
            + " | ".join(f"**{money(per_million(tables[v], v))}**" for v in volumes)
            + " |"
        )
        out.append(
            "| marginal, per million more events | "
            + " | ".join(money(marginal_per_million(prices, v, scenario)) for v in volumes)
            + " |"
        )
        out.append("")
        even = break_even(prices, scenario)
        out.append(
            f"Under $1 per million events from **{volume_label(even)} events a month** "
            "(1-2-5 steps).\n"
            if even
            else "**Not under $1 per million events at any volume** from 1M to 10B a month "
            "(1-2-5 steps).\n"
        )
        details = "; ".join(f"{line.item}: {line.detail}" for line in tables[volumes[-1]])
        out.append(f"At {volume_label(volumes[-1])}: {details}.\n")
    peers = prices["peers"]
    out.append(f"### Peers (public prices, read {peers['read_on']})\n")
    out += ["| | " + " | ".join(f"{volume_label(v)} events" for v in volumes) + " |"]
    out.append("|---|" + "---:|" * len(volumes))
    default = {v: total(monthly_cost(prices, v, "default")) for v in volumes}
    out.append(
        "| Pulse on AWS (`default`) | " + " | ".join(money(default[v]) for v in volumes) + " |"
    )
    for key in ("posthog", "plausible", "mixpanel"):
        peer = peers[key]
        out.append(
            f"| {peer['name']} | " + " | ".join(money(peer_cost(peer, v)) for v in volumes) + " |"
        )
    out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prices", type=Path, default=PRICES)
    parser.add_argument("--volumes", type=float, nargs="*")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    prices = load(args.prices)
    volumes = args.volumes or [float(v) for v in prices["volumes"]]
    if args.json:
        result = {
            scenario: {
                volume_label(v): {
                    "lines": {
                        line.item: round(line.dollars, 2)
                        for line in monthly_cost(prices, v, scenario)
                    },
                    "total": round(total(monthly_cost(prices, v, scenario)), 2),
                    "per_million_events": round(
                        per_million(monthly_cost(prices, v, scenario), v), 4
                    ),
                    "marginal_per_million_events": round(
                        marginal_per_million(prices, v, scenario), 4
                    ),
                }
                for v in volumes
            }
            for scenario in prices["scenarios"]
        }
        print(json.dumps(result, indent=2))
    else:
        print(markdown(prices, volumes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
