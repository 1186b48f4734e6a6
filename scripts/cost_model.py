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
    """The workload assumptions with the scenario's overrides applied."""
    workload = dict(prices["workload"])
    workload.setdefault("kinesis_mode", "on_demand")
    workload.update(prices["scenarios"][scenario]["overrides"])
    return workload


def sizing_for(prices: dict[str, Any], events: float) -> dict[str, Any]:
    for size in prices["sizing"]:
        if events <= size["up_to_events"]:
            return dict(size)
    return dict(prices["sizing"][-1])


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


def monthly_cost(prices: dict[str, Any], events: float, scenario: str = "default") -> list[Line]:
    """Every line item of a month with ``events`` ingested events."""
    aws, work = prices["aws"], workload_for(prices, scenario)
    hours = prices["hours_per_month"]
    size = sizing_for(prices, events)
    fns = work["functions"]
    lines: list[Line] = []

    requests = events / work["events_per_ingest_request"]
    record_bytes = work["events_per_ingest_request"] * work["record_bytes_per_event"]

    # API Gateway HTTP API: ingest + dashboard.
    api_requests = requests + work["dashboard_requests_per_month"]
    http = aws["http_api"]
    http_cost = tiered(
        api_requests / MILLION,
        [[300, http["per_million_first_300m"]], [None, http["per_million_after"]]],
    )
    lines.append(
        Line("API Gateway HTTP API", http_cost, f"{api_requests / MILLION:,.1f}M requests")
    )

    # CloudFront: the SDK, the dashboard and (by default) ingest through /api/*.
    cf = aws["cloudfront"]
    sdk_loads = events * work["sdk_loads_per_event"]
    cf_requests = sdk_loads + work["dashboard_requests_per_month"]
    out_bytes = sdk_loads * work["sdk_bytes"]
    origin_bytes = 0.0
    if work["ingest_via_cloudfront"]:
        cf_requests += requests
        out_bytes += requests * work["ingest_response_bytes"]
        origin_bytes += requests * record_bytes
    cf_cost = (
        max(0.0, cf_requests - cf["free_requests"]) / 10_000 * cf["https_per_10k"]
        + max(0.0, out_bytes / GB - cf["free_out_gb"]) * cf["out_per_gb"]
        + origin_bytes / GB * cf["to_origin_per_gb"]
    )
    lines.append(Line("CloudFront", cf_cost, f"{cf_requests / MILLION:,.1f}M requests"))

    # Lambda: requests and GB-seconds per function, the always-free tier off the total.
    shards = work["shards_on_demand_minimum"]
    polls = min(requests, SECONDS_PER_MONTH * shards)  # each shard is read about once a second
    processor_runs = max(requests / 500, polls)
    runs = {
        "ingest": (requests, fns["ingest"]["ms_per_request"]),
        "processor": (
            processor_runs,
            fns["processor"]["ms_per_invocation"]
            + fns["processor"]["ms_per_event"] * events / max(processor_runs, 1),
        ),
        "api": (work["dashboard_requests_per_month"], fns["api"]["ms_per_request"]),
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
    kinesis_bytes = requests * record_bytes
    if work["kinesis_mode"] == "provisioned":
        kp = aws["kinesis_provisioned"]
        peak_records = 3 * requests / SECONDS_PER_MONTH  # peak hour at 3x the average
        peak_mb = 3 * kinesis_bytes / SECONDS_PER_MONTH / 1024**2
        shard_count = max(1, math.ceil(max(peak_records / 1000, peak_mb / 1)))
        units = requests * math.ceil(record_bytes / 1024 / kp["put_unit_kb"])
        kinesis_cost = (
            shard_count * hours * kp["shard_hour"] + units / MILLION * kp["put_units_per_million"]
        )
        detail = f"provisioned, {shard_count} shard(s)"
    else:
        kd = aws["kinesis_on_demand"]
        billed_gb = requests * math.ceil(record_bytes / 1024) * 1024 / GB
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
    vcpus = max(rds["proxy_min_vcpus"], rds["instance_vcpus"][instance])
    lines.append(Line("RDS Proxy", hours * vcpus * rds["proxy_vcpu_hour"], f"{vcpus} vCPU"))

    # Redis.
    node = size["cache"]
    lines.append(Line("ElastiCache Redis", hours * aws["elasticache"]["node_hour"][node], node))

    # VPC: two interface endpoints in two AZs; no NAT (IPv6 egress-only gateway, free).
    vpc = aws["vpc"]
    endpoint_gb = kinesis_bytes / GB
    lines.append(
        Line(
            "VPC interface endpoints",
            2 * 2 * hours * vpc["interface_endpoint_hour"]
            + endpoint_gb * vpc["interface_endpoint_per_gb"],
            "Secrets Manager + Kinesis, 2 AZs",
        )
    )
    lines.append(Line("NAT gateway", 0.0, "none: pushes leave over IPv6 (egress-only gateway)"))

    # CloudWatch: logs, alarms, dashboard, the Powertools metrics.
    cw = aws["cloudwatch"]
    log_gb = invocations * work["log_bytes_per_invocation"] / GB
    cw_cost = (
        log_gb * (cw["logs_ingest_per_gb"] + cw["logs_store_per_gb"])
        + work["alarm_metrics"] * cw["alarm_metric_month"]
        + cw["dashboard_month"]
        + work["custom_metrics"] * cw["custom_metric_month"]
    )
    lines.append(Line("CloudWatch", cw_cost, f"{log_gb:,.1f} GB of logs, alarms, dashboard"))

    small = aws["small"]
    lines.append(Line("Secrets Manager, S3, SQS", 2 * small["secret_month"] + 0.05, "2 secrets"))
    return lines


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
        out.append("")
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
