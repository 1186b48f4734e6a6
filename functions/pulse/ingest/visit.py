"""What a visit is: the browser, OS and device type of its User-Agent, whether that is a bot, and
the country of its IP address.

Worked out in the ingest function, once per request (the events of a request share its
headers), because the IP address is there and nowhere after: the country is looked up before
the address is hashed and dropped, and only its ISO 3166-1 alpha-2 code goes on.

- **User-Agent:** ``ua-parser`` (the uap-core rules) with its Rust resolver ``ua-parser-rs``
  (about 17 µs a new User-Agent, against 700 µs for its pure-Python resolver). Building the
  resolver costs about 0.2 s, so it is built on first use, like boto3 (the import stays light).
- **Bots:** ``crawlerdetect`` (the CrawlerDetect list: crawlers, headless browsers, HTTP
  libraries), or a User-Agent uap-core itself calls a spider.
- **Country:** ``iptocc``: the five Regional Internet Registries' delegations, embedded in its
  wheel (MIT/Apache-2.0 code, registry data that is public; about 0.1 µs a lookup). It names the
  country a block is registered to, which agrees with commercial databases for about 95% of IPv4
  addresses. Private, reserved and unassigned addresses have none.

Both User-Agent answers are cached per environment (real traffic repeats a few thousand
User-Agents), so the common request pays a dictionary lookup.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

DESKTOP = "desktop"
MOBILE = "mobile"
TABLET = "tablet"
TV = "tv"
BOT = "bot"

# uap-core's OS families, by the kind of device they run on.
_MOBILE_OS = frozenset(
    {
        "iOS",
        "Android",
        "Windows Phone",
        "Windows Mobile",
        "BlackBerry OS",
        "BlackBerry Tablet OS",
        "KaiOS",
        "Firefox OS",
        "Symbian OS",
        "Symbian^3",
        "Bada",
        "webOS",
        "HarmonyOS",
        "Sailfish",
        "Ubuntu Touch",
    }
)
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Linux",
        "Ubuntu",
        "Chrome OS",
        "Fedora",
        "Debian",
        "Red Hat",
        "Mint",
        "openSUSE",
        "Arch Linux",
        "Gentoo",
        "Slackware",
        "Mageia",
        "Kubuntu",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
    }
)
_TABLET_FAMILIES = ("iPad", "Kindle")
_UNKNOWN = "Other"
USER_AGENT_CACHE = 4096


@dataclass(frozen=True, slots=True)
class Agent:
    """What the User-Agent says: names as uap-core gives them (None when it does not know)."""

    browser: str | None
    os: str | None
    device: str | None  # DESKTOP, MOBILE, TABLET, TV, BOT, or None
    bot: bool


_resolver: Any = None
_crawlers: Any = None
_lock = threading.Lock()


def _tools() -> tuple[Any, Any]:
    """The User-Agent resolver and the crawler list, built once per environment."""
    global _resolver, _crawlers
    if _resolver is None:
        with _lock:
            if _resolver is None:
                import ua_parser
                from crawlerdetect import CrawlerDetect

                try:
                    from ua_parser.regex import Resolver

                    matchers = ua_parser.load_lazy_builtins()
                except ImportError:  # the native resolver is missing: the slow, correct one
                    from ua_parser.basic import Resolver  # type: ignore[assignment]

                    matchers = ua_parser.load_builtins()
                _crawlers = CrawlerDetect()
                _resolver = Resolver(matchers)
    return _resolver, _crawlers


def warm() -> None:
    """Build the resolver and compile the crawler list now (at init, or before a benchmark)."""
    of_user_agent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")


def _known(family: str | None) -> str | None:
    return None if family in (None, "", _UNKNOWN) else family


def device_type(*, os: str | None, device: str, brand: str | None, user_agent: str) -> str | None:
    """desktop, mobile, tablet or tv, from uap-core's OS and device answers."""
    if brand == "Generic_Android_Tablet" or device.startswith(_TABLET_FAMILIES):
        return TABLET
    if "TV" in device or "SMART-TV" in user_agent:
        return TV
    if os in _MOBILE_OS:
        # Android's own rule: a phone's browser says "Mobile", a tablet's does not.
        if os == "Android" and "Mobile" not in user_agent:
            return TABLET
        return MOBILE
    if os in _DESKTOP_OS:
        return DESKTOP
    return None


@lru_cache(maxsize=USER_AGENT_CACHE)
def of_user_agent(user_agent: str) -> Agent:
    """Browser, OS, device type and bot verdict of one User-Agent (cached)."""
    if not user_agent:
        return Agent(None, None, None, False)
    from ua_parser import Domain

    resolver, crawlers = _tools()
    parsed = resolver(user_agent, Domain.ALL).complete()
    browser = _known(parsed.user_agent.family if parsed.user_agent else None)
    os = _known(parsed.os.family if parsed.os else None)
    device = parsed.device.family if parsed.device else _UNKNOWN
    bot = device == "Spider" or bool(crawlers.is_crawler(user_agent))
    if bot:
        return Agent(browser, os, BOT, True)
    brand = parsed.device.brand if parsed.device else None
    kind = device_type(os=os, device=device, brand=brand, user_agent=user_agent)
    return Agent(browser, os, kind, False)


def country(ip: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of the country ``ip`` is registered in, or None (private,
    reserved, unassigned, or not an address)."""
    if not ip:
        return None
    from iptocc import country_code

    try:
        code = country_code(ip)
    except (ValueError, TypeError):
        return None
    return code if isinstance(code, str) and len(code) == 2 else None
