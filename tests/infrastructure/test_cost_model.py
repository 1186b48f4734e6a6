"""The cost model's arithmetic (scripts/cost_model.py), checked by hand against docs/prices.json,
so that a refreshed price file keeps the table right."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pulse.wiring import WIRING
from pulse_infra import access, names

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "cost_model.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cost_model", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["cost_model"] = module
    spec.loader.exec_module(module)
    return module


cost_model = _load()


@pytest.fixture(scope="module")
def prices() -> dict[str, Any]:
    data: dict[str, Any] = cost_model.load()
    return data


def line(lines: list[Any], item: str) -> float:
    (found,) = [x.dollars for x in lines if x.item == item]
    return float(found)


def test_tiered_prices_each_unit_at_its_tier_after_the_free_ones() -> None:
    tiers = [[10, 1.0], [20, 0.5], [None, 0.1]]
    assert cost_model.tiered(5, tiers) == 5
    assert cost_model.tiered(15, tiers) == 10 + 2.5
    assert cost_model.tiered(30, tiers) == 10 + 5 + 1
    assert cost_model.tiered(15, tiers, free=12) == pytest.approx(3 * 0.5)
    assert cost_model.tiered(3, tiers, free=12) == 0


def test_gb_seconds() -> None:
    # 1M invocations of 20 ms at 1,024 MB = 20,000 GB-s; at 512 MB, half
    assert cost_model.gb_seconds(1_000_000, 20, 1024) == pytest.approx(20_000)
    assert cost_model.gb_seconds(1_000_000, 20, 512) == pytest.approx(10_000)


def test_request_and_stream_lines_by_hand(prices: dict[str, Any]) -> None:
    events = 100_000_000
    work = cost_model.workload_for(prices, "default")
    lines = cost_model.monthly_cost(prices, events, "default")
    requests = events / work["events_per_ingest_request"]
    # HTTP API: the dashboard's requests only; ingest has its own function URL
    assert work["ingest_path"] == "function_url"
    expected_http = work["dashboard_requests_per_month"] / 1e6
    expected_http *= prices["aws"]["http_api"]["per_million_first_300m"]
    assert line(lines, "API Gateway HTTP API") == pytest.approx(expected_http)
    # Kinesis provisioned: one shard every hour, plus a PUT payload unit per record (<25 KB)
    assert work["kinesis_mode"] == "provisioned" and work["stream_shards"] == 1
    kp = prices["aws"]["kinesis_provisioned"]
    expected_kinesis = 730 * kp["shard_hour"] + requests / 1e6 * kp["put_units_per_million"]
    assert line(lines, "Kinesis") == pytest.approx(expected_kinesis)
    # No RDS Proxy by default; with the switch, at least two vCPUs, every hour
    rds = prices["aws"]["rds"]
    assert line(lines, "RDS Proxy") == 0
    proxied = cost_model.monthly_cost(prices, events, "production")
    assert line(proxied, "RDS Proxy") == pytest.approx(730 * 2 * rds["proxy_vcpu_hour"])
    # No NAT gateway in the shipped design
    assert line(lines, "NAT gateway") == 0


def test_a_record_is_its_envelope_and_its_events(prices: dict[str, Any]) -> None:
    work = cost_model.workload_for(prices, "default")
    envelope, each = work["record_envelope_bytes"], work["record_bytes_per_event"]
    assert cost_model.record_bytes(work) == envelope + work["events_per_ingest_request"] * each
    assert (
        cost_model.record_bytes({**work, "events_per_ingest_request": 10}) == envelope + 10 * each
    )


def test_storage_is_a_year_of_the_measured_bytes_an_event(prices: dict[str, Any]) -> None:
    work = prices["workload"]
    for events in (1e8, 1e9):
        stored_gb = events * work["storage_months"] * work["stored_bytes_per_event"] / 1024**3
        expected = stored_gb * prices["aws"]["rds"]["gp3_gb_month"]
        assert line(cost_model.monthly_cost(prices, events), "RDS storage (gp3)") == (
            pytest.approx(expected)
        )
    # and never below the 20 GB the stack allocates
    small = line(cost_model.monthly_cost(prices, 1e3), "RDS storage (gp3)")
    assert small == pytest.approx(20 * prices["aws"]["rds"]["gp3_gb_month"])


def test_interface_endpoints_by_hand_in_one_az_and_in_two(prices: dict[str, Any]) -> None:
    events = 100_000_000
    vpc = prices["aws"]["vpc"]
    for scenario, azs in (("default", 1), ("production", 2)):
        work = cost_model.workload_for(prices, scenario)
        assert work["endpoint_azs"] == azs
        requests = events / work["events_per_ingest_request"]
        gb = requests * cost_model.record_bytes(work) / 1024**3
        expected = 2 * azs * 730 * vpc["interface_endpoint_hour"]
        expected += gb * vpc["interface_endpoint_per_gb"]
        lines = cost_model.monthly_cost(prices, events, scenario)
        assert line(lines, "VPC interface endpoints") == pytest.approx(expected)


def test_the_archive_by_hand(prices: dict[str, Any]) -> None:
    events = 100_000_000
    work = cost_model.workload_for(prices, "default")
    s3 = prices["aws"]["s3"]
    # Given the archive as the stack deploys it: 21.9 bytes an event (measured), kept as long as
    # the events
    assert work["archive"] is True and work["archive_bytes_per_event"] == 21.9
    days = 730 / 24
    # a year of events in Parquet: 100M x 12 x 21.9 bytes = 24.5 GB
    gb = events * work["storage_months"] * work["archive_bytes_per_event"] / 1024**3
    assert gb == pytest.approx(24.48, abs=0.01)
    # one PUT a project-day and one rewrite of it (late events)
    puts = work["archive_projects"] * days * (1 + work["archive_rewrites_per_day"])
    assert work["archive_rewrites_per_day"] == 1
    # every new environment of an archive function fetches every project-day kept, once
    gets = work["archive_environments_per_month"] * work["archive_projects"] * days * 12
    expected = (
        gb * s3["gb_month"] + puts / 1000 * s3["put_per_1000"] + gets / 1000 * s3["get_per_1000"]
    )
    lines = cost_model.monthly_cost(prices, events)
    assert line(lines, "S3 archive (Parquet)") == pytest.approx(expected)
    assert cost_model.archive_requests(work, 730) == pytest.approx((puts, gets))
    # Its gateway endpoint costs nothing
    assert line(lines, "VPC gateway endpoint (S3)") == 0
    # Storage grows with the events, the requests do not
    more = cost_model.monthly_cost(prices, 10 * events)
    assert line(more, "S3 archive (Parquet)") - line(lines, "S3 archive (Parquet)") == (
        pytest.approx(9 * gb * s3["gb_month"])
    )


def test_the_archive_adds_its_lines_and_nothing_else(prices: dict[str, Any]) -> None:
    for events in (1e6, 1e8, 1e9):
        with_archive = cost_model.monthly_cost(prices, events)
        without = cost_model.monthly_cost(_with(prices, archive=False), events)
        assert line(without, "S3 archive (Parquet)") == 0
        assert line(without, "VPC gateway endpoint (S3)") == 0
        assert cost_model.total(with_archive) - cost_model.total(without) == pytest.approx(
            line(with_archive, "S3 archive (Parquet)")
            + line(with_archive, "VPC gateway endpoint (S3)")
        )
    # The designs from before the archive are priced without it
    for scenario in ("previous", "previous-as-modelled"):
        assert cost_model.workload_for(prices, scenario)["archive"] is False
        assert line(cost_model.monthly_cost(prices, 1e8, scenario), "S3 archive (Parquet)") == 0


def test_a_scenario_may_carry_its_own_sizing(prices: dict[str, Any]) -> None:
    assert cost_model.sizing_for(prices, 1e8)["database"] == "db.t4g.small"
    assert cost_model.sizing_for(prices, 1e8, "previous")["database"] == "db.t4g.medium"
    lines = cost_model.monthly_cost(prices, 1e8, "previous")
    assert line(lines, "RDS Postgres instance") == pytest.approx(
        730 * prices["aws"]["rds"]["instance_hour"]["db.t4g.medium"]
    )


def test_on_demand_kinesis_by_hand(prices: dict[str, Any]) -> None:
    events = 100_000_000
    changed = _with(prices, kinesis_mode="on_demand")
    work = cost_model.workload_for(changed, "default")
    lines = cost_model.monthly_cost(changed, events, "default")
    requests = events / work["events_per_ingest_request"]
    # stream hours, then each record rounded up to whole KB, in and out
    kd = prices["aws"]["kinesis_on_demand"]
    kb = math.ceil((work["record_envelope_bytes"] + 2 * work["record_bytes_per_event"]) / 1024)
    assert work["events_per_ingest_request"] == 2
    gb = requests * kb / 1024**2
    expected = 730 * kd["stream_hour"] + gb * (kd["per_gb_in"] + kd["per_gb_out"])
    assert line(lines, "Kinesis") == pytest.approx(expected)


def _with(prices: dict[str, Any], **workload: Any) -> dict[str, Any]:
    changed = json.loads(json.dumps(prices))
    changed["workload"].update(workload)
    return changed


def test_each_ingest_path_pays_for_what_it_passes_through(prices: dict[str, Any]) -> None:
    events = 100_000_000
    requests = events / prices["workload"]["events_per_ingest_request"]
    cost = {
        path: {
            x.item: x.dollars
            for x in cost_model.monthly_cost(_with(prices, ingest_path=path), events)
        }
        for path in ("function_url", "http_api", "cloudfront")
    }
    http = prices["aws"]["http_api"]["per_million_first_300m"]
    cf = prices["aws"]["cloudfront"]
    # Through the HTTP API: one API Gateway request per ingest request, nothing else changes
    assert cost["http_api"]["API Gateway HTTP API"] - cost["function_url"][
        "API Gateway HTTP API"
    ] == pytest.approx(requests / 1e6 * http)
    assert cost["http_api"]["CloudFront"] == cost["function_url"]["CloudFront"]
    # Through CloudFront as well: a CloudFront request and a function invocation on top
    extra_cf = cost["cloudfront"]["CloudFront"] - cost["http_api"]["CloudFront"]
    assert extra_cf >= requests / 10_000 * cf["https_per_10k"]
    assert extra_cf >= requests / 1e6 * cf["function_per_million"]
    assert cost["cloudfront"]["Lambda (requests + GB-s, arm64)"] == pytest.approx(
        cost["function_url"]["Lambda (requests + GB-s, arm64)"]
    )
    with pytest.raises(ValueError, match="ingest_path"):
        cost_model.monthly_cost(_with(prices, ingest_path="carrier-pigeon"), events)


def test_filtering_platform_lines_removes_their_bytes_only(prices: dict[str, Any]) -> None:
    events = 100_000_000
    warn = cost_model.monthly_cost(_with(prices, system_log_level="WARN"), events)
    info = cost_model.monthly_cost(_with(prices, system_log_level="INFO"), events)
    cw = prices["aws"]["cloudwatch"]
    # the difference is the platform bytes of every invocation, ingested and stored a month
    (detail,) = [x.detail for x in warn if x.item.startswith("Lambda")]
    count = float(detail.split("M invocations")[0].replace(",", "")) * 1e6  # "503.3M ..."
    platform_gb = count * prices["workload"]["platform_log_bytes_per_invocation"] / 1024**3
    assert line(info, "CloudWatch") - line(warn, "CloudWatch") == pytest.approx(
        platform_gb * (cw["logs_ingest_per_gb"] + cw["logs_store_per_gb"]), rel=1e-3
    )


def test_more_shards_are_priced_when_the_peak_needs_them(prices: dict[str, Any]) -> None:
    # 2B events at 2 a record: 1B records, ~380 a second, ~1,140 at a 3x peak: two shards
    lines = cost_model.monthly_cost(prices, 2e9)
    (detail,) = [x.detail for x in lines if x.item == "Kinesis"]
    assert "2 shard(s)" in detail and "raise shard_count to 2" in detail
    kp = prices["aws"]["kinesis_provisioned"]
    assert line(lines, "Kinesis") >= 2 * 730 * kp["shard_hour"]
    assert cost_model.shards_needed(1000 * cost_model.SECONDS_PER_MONTH / 3, 100) == 1
    assert cost_model.shards_needed(1001 * cost_model.SECONDS_PER_MONTH / 3, 100) == 2


def test_the_proxy_switch_adds_its_line_and_nothing_else(prices: dict[str, Any]) -> None:
    default = cost_model.monthly_cost(prices, 1e8, "default")
    assert line(default, "RDS Proxy") == 0
    proxied = cost_model.monthly_cost(_with(prices, database_proxy=True), 1e8, "default")
    assert cost_model.total(proxied) - cost_model.total(default) == pytest.approx(
        line(proxied, "RDS Proxy")
    )
    assert line(proxied, "RDS Proxy") > 0


def test_marginal_cost_leaves_the_fixed_floor_out(prices: dict[str, Any]) -> None:
    # Within one sizing tier, a million more events move no fixed line
    here = cost_model.monthly_cost(prices, 100e6)
    there = cost_model.monthly_cost(prices, 101e6)
    for fixed in ("RDS Postgres instance", "RDS Proxy", "ElastiCache Redis", "NAT gateway"):
        assert line(there, fixed) == line(here, fixed)
    assert cost_model.marginal_per_million(prices, 100e6, "default") == pytest.approx(
        cost_model.total(there) - cost_model.total(here)
    )
    # At a tier's edge the instance does not jump into the marginal figure
    edge = prices["sizing"][0]["up_to_events"]
    marginal = cost_model.marginal_per_million(prices, edge, "default")
    assert marginal < cost_model.marginal_per_million(prices, 100e6, "default") + 1


def test_break_even_is_the_first_volume_under_the_target(prices: dict[str, Any]) -> None:
    scenario = "previous-as-modelled"  # 350 bytes an event: under $1 from some volume
    volume = cost_model.break_even(prices, scenario)
    assert volume is not None
    assert cost_model.per_million(cost_model.monthly_cost(prices, volume, scenario), volume) < 1
    # and the step before it was not
    series = [float(m * 10**e) for e in range(6, 10) for m in (1, 2, 5)]
    before = series[series.index(volume) - 1]
    assert cost_model.per_million(cost_model.monthly_cost(prices, before, scenario), before) >= 1
    assert cost_model.break_even(prices, scenario, target=0.0) is None


def test_no_volume_breaks_even_while_a_million_more_events_cost_more_than_the_target(
    prices: dict[str, Any],
) -> None:
    # A year of the measured bytes an event costs more than $1 a million on gp3 alone, so the
    # cost per million events never falls under $1, at any volume
    work = prices["workload"]
    storage = 1e6 * work["storage_months"] * work["stored_bytes_per_event"] / 1024**3
    assert storage * prices["aws"]["rds"]["gp3_gb_month"] > 1
    assert cost_model.marginal_per_million(prices, 1e9, "default") > 1
    assert cost_model.break_even(prices, "default") is None


def test_totals_and_cost_per_million_events(prices: dict[str, Any]) -> None:
    for events in prices["volumes"]:
        lines = cost_model.monthly_cost(prices, events)
        assert cost_model.total(lines) == pytest.approx(sum(x.dollars for x in lines))
        assert cost_model.per_million(lines, events) == pytest.approx(
            cost_model.total(lines) / (events / 1e6)
        )
        assert all(x.dollars >= 0 for x in lines)


def test_more_events_never_cost_less_and_cost_less_each(prices: dict[str, Any]) -> None:
    small, large = (cost_model.monthly_cost(prices, v) for v in (1e6, 1e9))
    assert cost_model.total(large) > cost_model.total(small)
    assert cost_model.per_million(large, 1e9) < cost_model.per_million(small, 1e6)


def test_each_scenario_changes_only_its_overrides(prices: dict[str, Any]) -> None:
    default = cost_model.workload_for(prices, "default")
    assert default == prices["workload"]
    for scenario, spec in prices["scenarios"].items():
        changed = cost_model.workload_for(prices, scenario)
        for key, value in spec["overrides"].items():
            target = changed
            *path, last = key.split(".")
            for part in path:
                target = target[part]
            assert target[last] == value, (scenario, key)
        flat = json.dumps(changed, sort_keys=True)
        if not spec["overrides"]:
            assert flat == json.dumps(default, sort_keys=True)
    # the shipped default is the design the CDK app deploys
    assert default["ingest_path"] == "function_url"
    assert default["kinesis_mode"] == "provisioned"
    assert default["system_log_level"] == "WARN"
    assert default["functions"]["ingest"]["memory_mb"] == 512
    assert default["database_proxy"] is names.DATABASE_PROXY
    assert default["endpoint_azs"] == names.ENDPOINT_AZS
    assert default["archive"] is access.uses_archive(WIRING)
    assert prices["sizing"][0]["database"] == "db." + names.DATABASE_INSTANCE_TYPE
    assert prices["sizing"][0]["cache"] == names.REDIS_NODE_TYPE


def test_posthog_by_hand_at_100m(prices: dict[str, Any]) -> None:
    # 1M free, then 1M at the first rate, 13M, 35M and 50M at the next ones
    (r1, r2, r3, r4) = (t[1] for t in prices["peers"]["posthog"]["tiers"][:4])
    expected = 1e6 * r1 + 13e6 * r2 + 35e6 * r3 + 50e6 * r4
    assert cost_model.peer_cost(prices["peers"]["posthog"], 100e6) == pytest.approx(expected)
    # and an unread price stays unread rather than zero
    assert cost_model.peer_cost(prices["peers"]["plausible"], 100e6) is None


def _figures(block: dict[str, Any]) -> set[str]:
    """The names of a price block's figures: numbers, lists of numbers, and each entry of a
    table of numbers as ``table[key]`` (e.g. ``instance_hour[db.t4g.micro]``)."""
    out: set[str] = set()
    for key, value in block.items():
        if key in ("read", "not_read", "source", "name") or isinstance(value, bool):
            continue
        if isinstance(value, int | float | list):
            out.add(key)
        elif isinstance(value, dict):
            out.add(key)
            out |= {f"{key}[{entry}]" for entry in value}
    return out


def test_every_price_was_read_with_its_url_or_is_marked_not_read(
    prices: dict[str, Any],
) -> None:
    blocks = {
        **prices["aws"],
        **{k: v for k, v in prices["peers"].items() if k != "read_on"},
    }
    for name, block in blocks.items():
        assert block["source"], name
        read, not_read = block["read"], set(block["not_read"])
        assert isinstance(read, dict), name
        assert not set(read) & not_read, name
        figures = _figures(block)
        for figure, where in read.items():
            assert figure in figures, (name, figure)
            assert where.startswith("http"), (name, figure)  # a URL, then what it showed
        # every figure is accounted for: read (its own key or its table's), or not read
        accounted = set(read) | not_read
        for figure in figures:
            table = figure.split("[")[0]
            whole = figure in accounted or table in accounted
            entries = any(a.startswith(figure + "[") for a in accounted)
            assert whole or entries, (name, figure)
        for figure in figures:
            if "[" not in figure and isinstance(block[figure], dict) and block[figure]:
                # a table is read as a whole or entry by entry, never half accounted for
                if figure not in accounted:
                    assert all(f"{figure}[{k}]" in accounted for k in block[figure]), (
                        name,
                        figure,
                    )
    assert prices["read_on"]


def test_the_tables_say_plainly_when_no_volume_is_under_the_target(
    prices: dict[str, Any],
) -> None:
    # It once read "Under $1 per million events from no volume up to 10B" under a $5.53 total
    text = cost_model.markdown(prices, [1e6, 1e8])
    default = text.split("### Scenario `default`")[1].split("### ")[0]
    assert "**Not under $1 per million events at any volume** from 1M to 10B" in default
    assert "Under $1 per million events from" not in default


def test_the_script_prints_the_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_model.main([]) == 0
    out = capsys.readouterr().out
    assert "per million events" in out and "PostHog" in out


def test_cost_md_holds_the_tables_the_script_prints(capsys: pytest.CaptureFixture[str]) -> None:
    # docs/cost.md pastes the script's output: refreshing prices.json without pasting fails here
    assert cost_model.main([]) == 0
    printed = capsys.readouterr().out.strip()
    doc = (SCRIPT.parents[1] / "docs" / "cost.md").read_text()
    assert printed in doc
