"""The cost model's arithmetic (scripts/cost_model.py), checked by hand against docs/prices.json,
so that a refreshed price file keeps the table right."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

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
    work = prices["workload"]
    lines = cost_model.monthly_cost(prices, events, "default")
    requests = events / work["events_per_ingest_request"]
    # HTTP API: ingest requests plus the dashboard's, per million (under the 300M tier)
    expected_http = (requests + work["dashboard_requests_per_month"]) / 1e6
    expected_http *= prices["aws"]["http_api"]["per_million_first_300m"]
    assert line(lines, "API Gateway HTTP API") == pytest.approx(expected_http)
    # Kinesis on-demand: stream hours, then each record rounded up to whole KB, in and out
    kd = prices["aws"]["kinesis_on_demand"]
    kb = math.ceil(work["events_per_ingest_request"] * work["record_bytes_per_event"] / 1024)
    gb = requests * kb / 1024**2
    expected_kinesis = 730 * kd["stream_hour"] + gb * (kd["per_gb_in"] + kd["per_gb_out"])
    assert line(lines, "Kinesis") == pytest.approx(expected_kinesis)
    # RDS Proxy: at least two vCPUs, every hour
    rds = prices["aws"]["rds"]
    assert line(lines, "RDS Proxy") == pytest.approx(730 * 2 * rds["proxy_vcpu_hour"])
    # No NAT gateway in the shipped design
    assert line(lines, "NAT gateway") == 0


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


def test_the_lean_scenario_changes_only_its_overrides(prices: dict[str, Any]) -> None:
    default = cost_model.workload_for(prices, "default")
    lean = cost_model.workload_for(prices, "lean")
    changed = {k for k in lean if lean[k] != default.get(k)}
    assert changed == set(prices["scenarios"]["lean"]["overrides"])


def test_posthog_by_hand_at_100m(prices: dict[str, Any]) -> None:
    # 1M free, then 1M at the first rate, 13M, 35M and 50M at the next ones
    (r1, r2, r3, r4) = (t[1] for t in prices["peers"]["posthog"]["tiers"][:4])
    expected = 1e6 * r1 + 13e6 * r2 + 35e6 * r3 + 50e6 * r4
    assert cost_model.peer_cost(prices["peers"]["posthog"], 100e6) == pytest.approx(expected)
    # and an unread price stays unread rather than zero
    assert cost_model.peer_cost(prices["peers"]["plausible"], 100e6) is None


def test_every_price_names_its_source(prices: dict[str, Any]) -> None:
    for name, block in {
        **prices["aws"],
        **{k: v for k, v in prices["peers"].items() if k != "read_on"},
    }.items():
        assert block["source"], name
        assert isinstance(block["read"], bool), name
    assert prices["read_on"]


def test_the_script_prints_the_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert cost_model.main([]) == 0
    out = capsys.readouterr().out
    assert "per million events" in out and "PostHog" in out
