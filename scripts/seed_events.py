#!/usr/bin/env python3
"""Send days of realistic traffic to a Pulse project through the ingest API.

    .venv/bin/python scripts/seed_events.py [--events 20000] [--days 7] [--seed 42]
        [--api-key proj_…] [--url http://127.0.0.1:8000/api/v1/events/ingest] [--concurrency 8]

(``make seed ARGS="--events 5000"``.) Without ``--api-key`` it uses the demo project that
``make up`` creates (``.local/demo.json``). Once sent, it waits for the stream to drain and prints
``stored N of M accepted`` from Postgres (``--database-url``; ``--no-check`` skips it), exiting
non-zero when they differ. See docs/seed.md.

The traffic: visitors (a share of them returning) arrive from direct traffic, search, social
sites and UTM-tagged campaigns, with the daily and weekly rhythm of a real site; sessions of
varied length browse the shop, add to cart, and go down the funnel page_view → signup →
purchase, with drop-off at every step; signing up (or logging in, for visitors who already have
an account) sends ``$identify``, after which their events carry the user id. Every event has a
uuid, as the browser SDK sends it, so re-sending the same traffic (same ``--seed`` and ``--now``)
is idempotent.

The generator (``generate_traffic``, ``make_batches``) is pure: the same arguments give the same
events. Sending (``send_batches``) is separate: batches of at most 100 events, a ``sent_at`` on
every request, 429 honoured (Retry-After), 5xx and network errors retried with backoff. The
check (``wait_until_stored``, ``stored_report``) is separate too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from pulse.edge import CLIENT_IP_HEADER, EDGE_SECRET_HEADER

ROOT = Path(__file__).resolve().parents[1]
MAX_BATCH = 100  # the ingest API's limit per request
MAX_DAYS = 30  # the ingest API refuses timestamps more than 31 days old
SITE = "https://shop.example"
SESSION_IDLE = timedelta(minutes=30)  # the SDK starts a new session after 30 idle minutes

# ---------------------------------------------------------------------------------------------
# The site and its visitors
# ---------------------------------------------------------------------------------------------

TITLES = {
    "/": "Shop · Pulse demo",
    "/pricing": "Pricing · Pulse demo",
    "/products/keyboard": "Mechanical keyboard · Pulse demo",
    "/products/mouse": "Wireless mouse · Pulse demo",
    "/products/mug": "Pulse mug · Pulse demo",
    "/blog/analytics-without-cookies": "Analytics without cookies · Pulse blog",
    "/blog/self-hosting-in-an-afternoon": "Self-hosting in an afternoon · Pulse blog",
    "/docs": "Docs · Pulse demo",
    "/docs/sdk": "Browser SDK · Pulse docs",
    "/about": "About · Pulse demo",
    "/signup": "Sign up · Pulse demo",
    "/checkout": "Checkout · Pulse demo",
}
# where a visitor goes next (weights); /checkout is reached only by buying
NEXT_PAGE: tuple[tuple[str, float], ...] = (
    ("/", 14),
    ("/pricing", 12),
    ("/products/keyboard", 11),
    ("/products/mouse", 9),
    ("/products/mug", 7),
    ("/blog/analytics-without-cookies", 4),
    ("/blog/self-hosting-in-an-afternoon", 3),
    ("/docs", 5),
    ("/docs/sdk", 4),
    ("/about", 3),
    ("/signup", 5),
)
PRODUCTS = {
    "/products/keyboard": ("keyboard", 129),
    "/products/mouse": ("mouse", 49),
    "/products/mug": ("mug", 15),
}
PLANS = {"free": 0, "pro": 19}


@dataclass(frozen=True)
class Source:
    """Where a session comes from: its referrers, landing pages and UTM tags."""

    name: str
    weight: float
    referrers: tuple[str, ...]  # empty: direct traffic, no referrer
    landing: tuple[str, ...]
    utm: tuple[tuple[str, str], ...] = ()
    conversion: float = 1.0  # how much more (or less) likely than average to sign up


SOURCES: tuple[Source, ...] = (
    Source("direct", 27, (), ("/", "/", "/pricing", "/docs")),
    Source(
        "search",
        29,
        (
            "https://www.google.com/",
            "https://www.google.com/",
            "https://www.bing.com/",
            "https://duckduckgo.com/",
        ),
        ("/", "/blog/analytics-without-cookies", "/docs/sdk", "/pricing", "/products/keyboard"),
    ),
    Source(
        "social",
        10,
        (
            "https://t.co/",
            "https://www.reddit.com/",
            "https://www.linkedin.com/",
            "https://news.ycombinator.com/",
        ),
        ("/blog/self-hosting-in-an-afternoon", "/blog/analytics-without-cookies", "/"),
        conversion=0.6,
    ),
    Source(
        "newsletter",
        8,
        (),
        ("/pricing", "/products/keyboard"),
        (("utm_source", "newsletter"), ("utm_medium", "email"), ("utm_campaign", "spring_sale")),
        conversion=1.6,
    ),
    Source(
        "google_ads",
        14,
        ("https://www.google.com/",),
        ("/pricing", "/"),
        (
            ("utm_source", "google"),
            ("utm_medium", "cpc"),
            ("utm_campaign", "brand"),
            ("utm_term", "self hosted analytics"),
        ),
        conversion=1.3,
    ),
    Source(
        "twitter_campaign",
        7,
        ("https://t.co/",),
        ("/",),
        (("utm_source", "twitter"), ("utm_medium", "social"), ("utm_campaign", "launch_week")),
        conversion=0.8,
    ),
    Source(
        "partner",
        5,
        ("https://desk-setups.example/best-mice-2025",),
        ("/products/mouse",),
        (
            ("utm_source", "desk_setups"),
            ("utm_medium", "referral"),
            ("utm_campaign", "review"),
            ("utm_content", "top_pick"),
        ),
        conversion=1.2,
    ),
)


@dataclass(frozen=True)
class Device:
    user_agent: str
    kind: str
    screens: tuple[str, ...]
    weight: float


DEVICES: tuple[Device, ...] = (
    Device(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "desktop",
        ("1920x1080", "1366x768", "2560x1440", "1536x864"),
        26,
    ),
    Device(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
        "desktop",
        ("1440x900", "1728x1117", "2560x1440"),
        14,
    ),
    Device(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
        "Gecko) Version/18.1 Safari/605.1.15",
        "desktop",
        ("1440x900", "1512x982", "1728x1117"),
        9,
    ),
    Device(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        "mobile",
        ("390x844", "393x852", "430x932", "375x667"),
        18,
    ),
    Device(
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
        "mobile",
        ("412x915", "384x854", "360x800"),
        14,
    ),
    Device(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "desktop",
        ("1920x1080", "1366x768"),
        7,
    ),
    Device(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        "desktop",
        ("1920x1080", "1536x864"),
        6,
    ),
    Device(
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        "desktop",
        ("1920x1080", "2560x1440"),
        3,
    ),
    Device(
        "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Mobile/15E148 Safari/604.1",
        "tablet",
        ("820x1180", "1024x1366"),
        3,
    ),
)
LANGUAGES: tuple[tuple[str, float], ...] = (
    ("en-US", 44),
    ("en-GB", 10),
    ("de-DE", 10),
    ("fr-FR", 8),
    ("es-ES", 7),
    ("pt-BR", 6),
    ("nl-NL", 4),
    ("ja-JP", 4),
    ("it-IT", 4),
    ("pl-PL", 3),
)


# Where visitors connect from: a country, a few public addresses registered there (the regional
# registries' delegations that ingest's country lookup reads; tests/integration/test_seed_events
# checks each), and its share of visitors. The stack sees a visitor's address as CloudFront would
# give it (``true-client-ip``, believed with the edge secret), hashes it and keeps the country.
NETWORKS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("US", ("8.8.8.8", "8.8.4.4", "8.34.208.1", "8.35.192.1"), 30),
    ("DE", ("85.214.132.117", "85.214.0.1", "85.214.200.9", "78.46.0.1"), 12),
    ("GB", ("81.2.69.142", "81.2.69.160", "81.2.69.192", "86.0.0.1"), 10),
    ("FR", ("90.84.0.1", "62.210.0.1", "80.78.0.1", "5.39.0.1"), 8),
    ("IN", ("49.44.0.1", "117.192.0.1", "49.32.0.1", "106.192.0.1"), 8),
    ("CA", ("24.48.0.1", "99.224.0.1", "142.112.0.1", "174.88.0.1"), 6),
    ("NL", ("193.0.6.139", "193.0.0.1", "145.0.0.1", "84.80.0.1"), 5),
    ("BR", ("200.147.67.142", "177.71.207.1", "200.147.0.1", "177.0.0.1"), 5),
    ("JP", ("133.242.0.3", "210.140.10.1", "133.0.0.1", "126.0.0.1"), 5),
    ("AU", ("101.0.86.43", "1.1.1.1", "1.0.0.1", "101.160.0.1"), 4),
    ("SE", ("2.0.0.1", "89.160.0.1", "78.64.0.1", "81.224.0.1"), 3),
    ("IE", ("185.60.216.35", "87.32.0.1", "86.40.0.1", "89.100.0.1"), 2),
)


def visitor_address(anonymous_id: str) -> str:
    """A visitor's address: a country by the countries' shares, then one of its addresses. Drawn
    from the visitor's own id, so the rest of the traffic is what it was without addresses."""
    rng = random.Random(anonymous_id)
    _, addresses, _ = rng.choices(NETWORKS, [w for _, _, w in NETWORKS])[0]
    return rng.choice(addresses)


# Relative traffic by hour of the day (UTC) and by day of the week (Monday first).
DAILY = (
    0.22, 0.16, 0.12, 0.10, 0.10, 0.13, 0.22, 0.38, 0.58, 0.74, 0.84, 0.90,
    0.94, 0.97, 1.00, 0.98, 0.95, 0.90, 0.86, 0.84, 0.80, 0.68, 0.50, 0.34,
)  # fmt: skip
WEEKLY = (1.0, 1.0, 0.98, 0.96, 0.88, 0.58, 0.62)


@dataclass(frozen=True)
class Behaviour:
    """The knobs of the traffic; the defaults give a plausible small shop."""

    returning_share: float = 0.3  # sessions by a visitor seen before (when one is free)
    account_share: float = 0.1  # new visitors who already have an account (they log in)
    login_rate: float = 0.75  # sessions in which such a visitor logs in
    bounce_rate: float = 0.4  # sessions of a single page view
    more_pages: float = 0.72  # chance of viewing another page after the second one
    max_pages: int = 25
    add_to_cart_rate: float = 0.3  # on a product page
    click_rate: float = 0.08  # a button_click on any page
    signup_rate: float = 0.16  # after viewing /pricing or /signup, if not signed up yet
    purchase_rate: float = 0.3  # after signing up, in the same session


@dataclass(frozen=True)
class SeedEvent:
    """One event as the ingest API takes it, and the User-Agent and address of the browser that
    sent it (the API reads them from the request, so they are sent per batch)."""

    user_agent: str
    payload: dict[str, Any]
    client_ip: str = ""

    @property
    def timestamp(self) -> str:
        return str(self.payload["timestamp"])


@dataclass(frozen=True)
class Traffic:
    events: list[SeedEvent]  # in time order
    sessions: int
    visitors: int
    identified_users: int
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Batch:
    user_agent: str
    events: list[dict[str, Any]]
    client_ip: str = ""


@dataclass
class _Visitor:
    anonymous_id: str
    device: Device
    screen: str
    language: str
    has_account: bool
    client_ip: str = ""
    user_id: str | None = None  # once identified (localStorage keeps it), the distinct id
    signed_up: bool = False
    free_at: datetime | None = None  # the end of their last session
    events: list[SeedEvent] = field(default_factory=list)

    @property
    def distinct_id(self) -> str:
        return self.user_id or self.anonymous_id


# ---------------------------------------------------------------------------------------------
# The generator (pure: same arguments, same traffic)
# ---------------------------------------------------------------------------------------------


def traffic_weight(at: datetime) -> float:
    """Relative traffic at ``at`` (UTC), between 0 and 1: the daily curve, linearly
    interpolated between hours, times the day of the week."""
    at = at.astimezone(UTC)
    hour = at.hour + at.minute / 60 + at.second / 3600
    low = DAILY[int(hour) % 24]
    high = DAILY[(int(hour) + 1) % 24]
    return (low + (high - low) * (hour - int(hour))) * WEEKLY[at.weekday()]


def sample_start(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment in [start, end), more likely when ``traffic_weight`` is high."""
    span = (end - start).total_seconds()
    while True:
        at = start + timedelta(seconds=rng.random() * span)
        if rng.random() < traffic_weight(at):
            return at


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([item for item, _ in weighted], [w for _, w in weighted])[0]


def _page_count(rng: random.Random, behaviour: Behaviour) -> int:
    if rng.random() < behaviour.bounce_rate:
        return 1
    pages = 2
    while pages < behaviour.max_pages and rng.random() < behaviour.more_pages:
        pages += 1
    return pages


def build_session(
    rng: random.Random,
    visitor: _Visitor,
    source: Source,
    start: datetime,
    end: datetime,
    behaviour: Behaviour,
) -> list[SeedEvent]:
    """One visit, as the SDK would record it; events after ``end`` are cut off (the session is
    still going on). Updates the visitor (identity, sign-up)."""
    session_id = random_uuid(rng)
    events: list[SeedEvent] = []
    at = start
    referrer = rng.choice(source.referrers) if source.referrers else None
    cart: list[tuple[str, int]] = []

    def record(name: str, properties: dict[str, Any], page_url: str) -> None:
        events.append(
            SeedEvent(
                visitor.device.user_agent,
                {
                    "event": name,
                    "properties": properties,
                    "distinct_id": visitor.distinct_id,
                    "session_id": session_id,
                    "page_url": page_url,
                    "referrer": referrer,
                    "timestamp": iso(at),
                    "uuid": random_uuid(rng),
                },
                visitor.client_ip,
            )
        )

    def later(mean_s: float, spread: float = 0.8, cap_s: float = 20 * 60) -> datetime:
        # at least a second later (events of a visitor never share a timestamp), and well
        # within the 30 idle minutes after which the SDK would start another session
        seconds = rng.lognormvariate(math.log(mean_s), spread)
        return at + timedelta(seconds=min(cap_s, max(1.0, seconds)))

    path = rng.choice(source.landing)
    pages = _page_count(rng, behaviour)
    for index in range(pages):
        query = ""
        if index == 0 and source.utm:
            query = "?" + "&".join(f"{k}={v.replace(' ', '+')}" for k, v in source.utm)
        url = SITE + path + query
        properties: dict[str, Any] = {
            "path": path,
            "title": TITLES[path],
            "referrer": referrer or "",
            "screen": visitor.screen,
            "language": visitor.language,
        }
        if index == 0:
            properties.update(source.utm)
        record("page_view", properties, url)

        if index == 0 and visitor.has_account and visitor.user_id is None:
            if rng.random() < behaviour.login_rate:
                at = later(12)
                visitor.user_id = "user_" + random_uuid(rng)[:8]
                record("$identify", {"plan": rng.choice(("free", "pro")), "via": "login"}, url)
        if path in PRODUCTS and rng.random() < behaviour.add_to_cart_rate:
            at = later(15)
            product, price = PRODUCTS[path]
            cart.append((product, price))
            record("add_to_cart", {"product": product, "price": price, "currency": "USD"}, url)
        if rng.random() < behaviour.click_rate:
            at = later(8)
            button = rng.choice(("newsletter_signup", "contact", "theme_toggle", "copy_snippet"))
            record("button_click", {"button_id": button}, url)
        if (
            path in ("/pricing", "/signup")
            and not visitor.signed_up
            and not visitor.has_account
            and rng.random() < behaviour.signup_rate * source.conversion
        ):
            plan = rng.choices(("free", "pro"), (7, 3))[0]
            at = later(40)
            record(
                "signup", {"plan": plan, "source": "form" if path == "/signup" else "pricing"}, url
            )
            visitor.signed_up = True
            visitor.user_id = "user_" + random_uuid(rng)[:8]
            at = later(2, 0.3)
            record("$identify", {"plan": plan, "via": "signup"}, url)
            if rng.random() < behaviour.purchase_rate * (1.5 if plan == "pro" else 1.0):
                at = later(30)
                referrer, path = url, "/checkout"
                url = SITE + path
                record(
                    "page_view",
                    {
                        "path": path,
                        "title": TITLES[path],
                        "referrer": referrer,
                        "screen": visitor.screen,
                        "language": visitor.language,
                    },
                    url,
                )
                items = [product for product, _ in cart] or [f"{plan}_plan"]
                revenue = sum(price for _, price in cart) or PLANS[plan] or 5
                at = later(45)
                record(
                    "purchase",
                    {
                        "order_id": "order_" + random_uuid(rng)[:10],
                        "revenue": revenue,
                        "currency": "USD",
                        "items": items,
                        "plan": plan,
                    },
                    url,
                )
                break  # bought: the visit ends on the checkout page
        if index + 1 < pages:
            at = later(35, 0.9)
            referrer = url
            path = _pick(rng, [(p, w) for p, w in NEXT_PAGE if p != path])
    return [event for event in events if event.timestamp <= iso(end)]


def _generate(
    n_sessions: int, days: float, now: datetime, seed: int, behaviour: Behaviour
) -> tuple[list[_Visitor], int]:
    rng = random.Random(seed)
    start = now - timedelta(days=days)
    starts = sorted(sample_start(rng, start, now) for _ in range(n_sessions))
    visitors: list[_Visitor] = []
    source_weights = [s.weight for s in SOURCES]
    device_weights = [d.weight for d in DEVICES]
    sessions = 0
    for session_start in starts:
        visitor = None
        if visitors and rng.random() < behaviour.returning_share:
            candidate = rng.choice(visitors)
            if candidate.free_at is None or candidate.free_at + SESSION_IDLE < session_start:
                visitor = candidate
        if visitor is None:
            device = rng.choices(DEVICES, device_weights)[0]
            visitor = _Visitor(
                anonymous_id="anon_" + random_uuid(rng),
                device=device,
                screen=rng.choice(device.screens),
                language=_pick(rng, LANGUAGES),
                has_account=rng.random() < behaviour.account_share,
            )
            visitor.client_ip = visitor_address(visitor.anonymous_id)
            visitors.append(visitor)
        source = rng.choices(SOURCES, source_weights)[0]
        events = build_session(rng, visitor, source, session_start, now, behaviour)
        if events:
            sessions += 1
            visitor.events.extend(events)
            visitor.free_at = datetime.fromisoformat(events[-1].timestamp)
    return [v for v in visitors if v.events], sessions


def generate_traffic(
    events: int,
    *,
    days: float = 7,
    now: datetime,
    seed: int,
    behaviour: Behaviour | None = None,
) -> Traffic:
    """Exactly ``events`` events over the ``days`` days up to ``now``, in time order.

    Sessions are generated in time order (so that a returning visitor's identity carries over),
    a little more than needed; whole visitors are then left out at random until the count fits,
    and the last few events in time are cut: a cut never leaves a visitor's later events without
    the earlier ones (their $identify, their sign-up)."""
    if events < 1:
        raise ValueError("events must be at least 1")
    if not 0 < days <= MAX_DAYS:
        raise ValueError(f"days must be in (0, {MAX_DAYS}]")
    behaviour = behaviour or Behaviour()
    now = now.astimezone(UTC)
    n_sessions = max(8, math.ceil(events / 3.5))
    while True:
        visitors, _ = _generate(n_sessions, days, now, seed, behaviour)
        total = sum(len(v.events) for v in visitors)
        if total >= events:
            break
        n_sessions = math.ceil(n_sessions * events / max(total, 1) * 1.1) + 8
    rng = random.Random(f"{seed}:trim")
    order = list(range(len(visitors)))
    rng.shuffle(order)
    keep = [True] * len(visitors)
    for i in order:
        if total - len(visitors[i].events) >= events:
            keep[i] = False
            total -= len(visitors[i].events)
    kept = [v for v, k in zip(visitors, keep, strict=True) if k]
    chosen = sorted(
        (event for v in kept for event in v.events),
        key=lambda e: (e.timestamp, e.payload["uuid"]),
    )[:events]
    in_chosen = {e.payload["uuid"] for e in chosen}
    return Traffic(
        events=chosen,
        sessions=len({e.payload["session_id"] for e in chosen}),
        visitors=sum(1 for v in kept if v.events[0].payload["uuid"] in in_chosen),
        identified_users=len(
            {e.payload["distinct_id"] for e in chosen if e.payload["event"] == "$identify"}
        ),
        start=now - timedelta(days=days),
        end=now,
    )


def make_batches(events: Iterable[SeedEvent], size: int = MAX_BATCH) -> list[Batch]:
    """Batches of at most ``size`` events that share a User-Agent and an address (both are read
    from the request), each in time order, the batches ordered by their first event."""
    if not 1 <= size <= MAX_BATCH:
        raise ValueError(f"batch size must be in [1, {MAX_BATCH}]")
    by_client: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in events:
        by_client.setdefault((event.user_agent, event.client_ip), []).append(event.payload)
    batches = [
        Batch(agent, payloads[i : i + size], ip)
        for (agent, ip), payloads in by_client.items()
        for i in range(0, len(payloads), size)
    ]
    return sorted(batches, key=lambda b: str(b.events[0]["timestamp"]))


def funnel(events: Iterable[SeedEvent]) -> dict[str, int]:
    """Sessions that reached each step: page_view → signup → purchase."""
    steps: dict[str, set[str]] = {"page_view": set(), "signup": set(), "purchase": set()}
    for event in events:
        if event.payload["event"] in steps:
            steps[event.payload["event"]].add(event.payload["session_id"])
    return {step: len(ids) for step, ids in steps.items()}


# ---------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------


class FatalSendError(Exception):
    """The API refuses every request (bad key, wrong URL): no use going on."""


@dataclass
class SendStats:
    events: int = 0  # in the batches to send
    done: int = 0  # events of the batches finished (delivered, refused or given up)
    accepted: int = 0
    rejected: int = 0
    failed: int = 0  # never delivered: retries exhausted
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    errors: list[str] = field(default_factory=list)
    accepted_ids: list[str] = field(default_factory=list)  # the uuids of the accepted events


Sleep = Callable[[float], Awaitable[None]]


def retry_after_seconds(value: str | None, default: float) -> float:
    """Retry-After as seconds (a number or an HTTP date); ``default`` when absent or invalid."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return default


async def send_batch(
    client: httpx.AsyncClient,
    url: str,
    api_key: str,
    batch: Batch,
    stats: SendStats,
    *,
    sleep: Sleep = asyncio.sleep,
    max_attempts: int = 6,
    max_rate_limited: int = 30,
    rng: random.Random | None = None,
    edge_secret: str | None = None,
) -> None:
    """POST one batch until it is accepted, refused, or the retries are spent. With the stack's
    ``edge_secret``, the batch's address goes as CloudFront would forward it."""
    rng = rng or random.Random()
    headers = {"content-type": "application/json", "user-agent": batch.user_agent}
    if edge_secret and batch.client_ip:
        headers |= {EDGE_SECRET_HEADER: edge_secret, CLIENT_IP_HEADER: batch.client_ip}
    attempts = throttled = 0
    while True:
        error = ""
        body = {"api_key": api_key, "sent_at": iso(datetime.now(UTC)), "events": batch.events}
        stats.requests += 1
        status: int | None = None
        response: httpx.Response | None = None
        try:
            response = await client.post(
                url,
                content=json.dumps(body, separators=(",", ":")).encode(),
                headers=headers,
            )
            status = response.status_code
        except httpx.TransportError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if response is not None and 200 <= response.status_code < 300:
            try:
                result = response.json()
                accepted = int(result["accepted"])
                rejected = list(result.get("rejected") or [])
            except (ValueError, KeyError, TypeError):
                accepted, rejected = len(batch.events), []
            stats.accepted += accepted
            stats.rejected += len(rejected)
            stats.errors.extend(f"rejected: {item}" for item in rejected[:3])
            refused = {item.get("index") for item in rejected if isinstance(item, dict)}
            stats.accepted_ids.extend(
                str(event["uuid"])
                for index, event in enumerate(batch.events)
                if index not in refused and event.get("uuid")
            )
            break
        if response is not None:
            error = f"HTTP {status}: {response.text[:300]}"
        if status in (401, 403, 404):
            raise FatalSendError(f"{url} refused the request ({error})")
        if status == 429:
            throttled += 1
            stats.rate_limited += 1
            if throttled <= max_rate_limited:
                stats.retries += 1
                assert response is not None
                await sleep(min(60.0, retry_after_seconds(response.headers.get("retry-after"), 1)))
                continue
        elif status is None or status >= 500:
            attempts += 1
            if attempts < max_attempts:
                stats.retries += 1
                backoff = min(30.0, 0.5 * 2 ** (attempts - 1)) * (0.5 + rng.random())
                if response is not None:
                    backoff = max(
                        backoff, retry_after_seconds(response.headers.get("retry-after"), 0)
                    )
                await sleep(backoff)
                continue
        else:  # another 4xx: the batch itself is refused, sending it again would not help
            stats.rejected += len(batch.events)
            stats.errors.append(error)
            break
        stats.failed += len(batch.events)
        stats.errors.append(f"gave up after retries: {error}")
        break
    stats.done += len(batch.events)


async def send_batches(
    batches: Sequence[Batch],
    *,
    url: str,
    api_key: str,
    concurrency: int = 8,
    client: httpx.AsyncClient | None = None,
    sleep: Sleep = asyncio.sleep,
    on_progress: Callable[[SendStats], None] | None = None,
    max_attempts: int = 6,
    stats: SendStats | None = None,
    edge_secret: str | None = None,
) -> SendStats:
    """Send every batch, ``concurrency`` requests at a time; counts go into ``stats`` (also
    readable when the sending is interrupted)."""
    stats = stats or SendStats()
    stats.events += sum(len(b.events) for b in batches)
    queue: asyncio.Queue[Batch] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    own_client = client is None
    http = client or httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=5.0),
        limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
    )

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        while True:
            try:
                batch = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await send_batch(
                http,
                url,
                api_key,
                batch,
                stats,
                sleep=sleep,
                max_attempts=max_attempts,
                rng=rng,
                edge_secret=edge_secret,
            )
            if on_progress:
                on_progress(stats)

    try:
        workers = [asyncio.create_task(worker(i)) for i in range(max(1, concurrency))]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
    finally:
        if own_client:
            await http.aclose()
    return stats


# ---------------------------------------------------------------------------------------------
# The check: every accepted event stored
# ---------------------------------------------------------------------------------------------


def wait_until_stored(
    count: Callable[[], int],
    accepted: int,
    *,
    timeout_s: float = 120.0,
    settle_s: float = 15.0,
    poll_s: float = 0.5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll ``count`` (the accepted events stored so far) until it reaches ``accepted``, has not
    grown for ``settle_s``, or ``timeout_s`` has passed; returns the last count."""
    started = clock()
    last, grown_at = -1, started
    while True:
        stored = count()
        now = clock()
        if stored != last:
            last, grown_at = stored, now
        if stored >= accepted or now - grown_at >= settle_s or now - started >= timeout_s:
            return stored
        sleep(poll_s)


def stored_report(stored: int, accepted: int) -> tuple[str, int]:
    """The line ``stored N of M accepted``, and the exit status: 0 only when they are equal."""
    return f"stored {stored} of {accepted} accepted", 0 if stored == accepted else 1


def check_stored(
    database_url: str,
    api_key: str,
    accepted_ids: Sequence[str],
    *,
    timeout_s: float = 120.0,
    settle_s: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[str, int]:
    """Wait for the stream to drain, then report how many of the accepted events (by uuid) the
    key's project holds in Postgres."""
    import psycopg

    ids = sorted(set(accepted_ids))
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute("SELECT id FROM projects WHERE api_key = %s", (api_key,)).fetchone()
        if row is None:
            return "no project with this key in that database (--database-url)", 1

        def count() -> int:
            found = conn.execute(
                "SELECT count(DISTINCT id) FROM events WHERE project_id = %s"
                " AND id = ANY(%s::uuid[])",
                (row[0], ids),
            ).fetchone()
            return int(found[0]) if found else 0

        stored = wait_until_stored(
            count, len(ids), timeout_s=timeout_s, settle_s=settle_s, sleep=sleep
        )
    return stored_report(stored, len(ids))


def default_database_url() -> str:
    """The local runtime's database (``DATABASE_URL``, as ``make up`` reads it)."""
    from localcloud.config import LocalConfig

    return LocalConfig().database_url


# ---------------------------------------------------------------------------------------------
# Progress bar, summary, command line
# ---------------------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a terminal; elsewhere (CI logs) a line every 10 %."""

    def __init__(self, total: int, stream: TextIO = sys.stderr, enabled: bool = True) -> None:
        self.total = max(1, total)
        self.stream = stream
        self.enabled = enabled
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._drawn = 0.0
        self._decile = -1
        self._shown = -1  # events done at the last line written

    def update(self, stats: SendStats, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        fraction = min(1.0, stats.done / self.total)
        elapsed = max(now - self.started, 1e-9)
        rate = stats.done / elapsed
        text = (
            f"{fraction * 100:5.1f}%  {stats.done:,}/{self.total:,} events  {rate:,.0f} ev/s"
            f"  retries {stats.retries}"
        )
        if self.tty:
            if not force and now - self._drawn < 0.1:
                return
            self._drawn = now
            width = 30
            filled = int(fraction * width)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {text}\x1b[K")  # \x1b[K: clear the rest of the line
        else:
            decile = int(fraction * 10)
            if (decile == self._decile and not force) or stats.done == self._shown:
                return
            self._decile = decile
            self.stream.write(text + "\n")
        self._shown = stats.done
        self.stream.flush()

    def close(self, stats: SendStats) -> None:
        if not self.enabled:
            return
        self.update(stats, force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def summary(
    traffic: Traffic, stats: SendStats | None, elapsed: float, *, url: str, seed: int
) -> str:
    steps = funnel(traffic.events)
    n = f"{len(traffic.events):,}"
    lines = [
        f"traffic     {n} events, {traffic.start:%Y-%m-%d %H:%M} → {traffic.end:%Y-%m-%d %H:%M}"
        f" UTC (seed {seed})",
        f"sessions    {traffic.sessions:,}",
        f"visitors    {traffic.visitors:,}, identified users {traffic.identified_users:,}",
        f"funnel      page_view {steps['page_view']:,} → signup {steps['signup']:,}"
        f" → purchase {steps['purchase']:,} sessions",
    ]
    if stats is None:
        return "\n".join(["dry run: nothing sent", *lines])
    rate = stats.done / elapsed if elapsed > 0 else 0.0
    head = [
        f"sent to     {url}",
        f"events      {stats.events:,} sent, {stats.accepted:,} accepted, {stats.rejected:,}"
        f" rejected, {stats.failed:,} not delivered",
        f"requests    {stats.requests:,} ({stats.retries:,} retries, {stats.rate_limited:,}"
        " rate limited)",
        f"elapsed     {elapsed:.1f} s, {rate:,.0f} events/s",
    ]
    tail = [f"error       {e}" for e in stats.errors[:5]]
    return "\n".join(head + lines + tail)


def local_data_dir(data_dir: Path | None = None) -> Path:
    """``data_dir``, else the local runtime's data folder (``$LOCAL_DATA_DIR`` or ``.local``)."""
    return data_dir or Path(os.environ.get("LOCAL_DATA_DIR") or ROOT / ".local")


def default_api_key(data_dir: Path | None = None) -> str | None:
    """The demo project's key from ``<data dir>/demo.json`` (written by ``make up``)."""
    folder = local_data_dir(data_dir)
    try:
        key = json.loads((folder / "demo.json").read_text())["api_key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return key if isinstance(key, str) and key else None


def default_edge_secret(data_dir: Path | None = None) -> str | None:
    """The local runtime's edge secret (``<data dir>/edge-secret.txt``, made by ``make up``): the
    stack then believes the visitors' addresses the seed sends, as it believes CloudFront's."""
    folder = local_data_dir(data_dir)
    try:
        secret = (folder / "edge-secret.txt").read_text().strip()
    except OSError:
        return None
    return secret or None


def default_url(data_dir: Path | None = None) -> str:
    """The running local platform's ingest URL: from ``<data dir>/endpoints.json`` (written by
    ``make up`` while it runs, whatever ports it bound), else ``$LOCAL_HTTP_PORT`` or 8000."""
    folder = local_data_dir(data_dir)
    try:
        base = json.loads((folder / "endpoints.json").read_text())["http"]
    except (OSError, ValueError, KeyError, TypeError):
        base = f"http://127.0.0.1:{os.environ.get('LOCAL_HTTP_PORT') or '8000'}"
    return f"{base}/api/v1/events/ingest"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _days(text: str) -> float:
    value = float(text)
    if not 0 < value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"must be in (0, {MAX_DAYS}]")
    return value


def _timestamp(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError("not an ISO 8601 timestamp") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="seed_events.py",
        description="Send days of realistic traffic to a Pulse project through the ingest API.",
    )
    parser.add_argument("--events", type=_positive_int, default=20_000, help="total (20000)")
    parser.add_argument("--days", type=_days, default=7, help="days of history up to now (7)")
    parser.add_argument(
        "--api-key", help="project key (proj_…); default: the demo project's, .local/demo.json"
    )
    parser.add_argument("--url", default=None, help=f"ingest URL (default {default_url()})")
    parser.add_argument("--seed", type=int, default=None, help="random seed, for the same traffic")
    parser.add_argument(
        "--now", type=_timestamp, default=None, help="end of the traffic (default: now)"
    )
    parser.add_argument("--concurrency", type=_positive_int, default=8, help="requests at once (8)")
    parser.add_argument(
        "--batch-size", type=int, default=MAX_BATCH, help=f"events a request (max {MAX_BATCH})"
    )
    parser.add_argument(
        "--edge-secret-file",
        type=Path,
        default=None,
        help="the stack's edge secret, to send each visitor's address as CloudFront would "
        "(default: .local/edge-secret.txt when there is one; without it the stack sees this "
        "machine's address and no country)",
    )
    parser.add_argument("--dry-run", action="store_true", help="generate, print, send nothing")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--database-url",
        default=None,
        help="Postgres to check the stored events in (default: the local runtime's, $DATABASE_URL)",
    )
    parser.add_argument(
        "--no-check",
        action="store_true",
        help="do not wait for the events to reach Postgres (a database you cannot reach)",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=120.0,
        help="seconds to wait at most for the stream to drain (120)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.batch_size <= MAX_BATCH:
        parser.error(f"--batch-size must be in [1, {MAX_BATCH}]")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    now = args.now or datetime.now(UTC)
    url = args.url or default_url()
    traffic = generate_traffic(args.events, days=args.days, now=now, seed=seed)
    batches = make_batches(traffic.events, args.batch_size)
    if args.dry_run:
        print(summary(traffic, None, 0.0, url=url, seed=seed))
        return 0
    api_key = args.api_key or default_api_key()
    if not api_key:
        print(
            "no --api-key, and no demo project in .local/demo.json: start the platform "
            "(make up) or pass --api-key proj_…",
            file=sys.stderr,
        )
        return 2
    edge_secret = (
        args.edge_secret_file.read_text().strip()
        if args.edge_secret_file
        else default_edge_secret()
    )
    progress = Progress(len(traffic.events), enabled=not args.quiet)
    stats = SendStats()
    started = time.monotonic()
    try:
        asyncio.run(
            send_batches(
                batches,
                url=url,
                api_key=api_key,
                concurrency=args.concurrency,
                on_progress=progress.update,
                stats=stats,
                edge_secret=edge_secret,
            )
        )
    except (FatalSendError, httpx.HTTPError, KeyboardInterrupt) as exc:
        progress.close(stats)
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        print(summary(traffic, stats, time.monotonic() - started, url=url, seed=seed))
        print(f"stopped: {reason}", file=sys.stderr)
        return 130 if isinstance(exc, KeyboardInterrupt) else 1
    progress.close(stats)
    print(summary(traffic, stats, time.monotonic() - started, url=url, seed=seed))
    status = 0 if stats.accepted == stats.events else 1
    if args.no_check:
        return status
    if not args.quiet:
        print("waiting for the stream to drain into Postgres…", file=sys.stderr)
    import psycopg

    try:
        line, stored_status = check_stored(
            args.database_url or default_database_url(),
            api_key,
            stats.accepted_ids,
            timeout_s=args.drain_timeout,
        )
    except psycopg.Error as exc:
        print(f"could not check Postgres ({exc}); --no-check skips the check", file=sys.stderr)
        return 1
    print(line)
    return status or stored_status


if __name__ == "__main__":
    sys.exit(main())
