"""What a visit is: browser, OS, device type and bots from the User-Agent, country from the IP."""

from __future__ import annotations

import pytest

from pulse.ingest import visit

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/131.0.0.0"
SAMSUNG_TV = (
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "browser", "os", "device"),
    [
        (CHROME_WINDOWS, "Chrome", "Windows", "desktop"),
        (SAFARI_MAC, "Safari", "Mac OS X", "desktop"),
        (SAFARI_IPHONE, "Mobile Safari", "iOS", "mobile"),
        (SAFARI_IPAD, "Mobile Safari", "iOS", "tablet"),
        (CHROME_ANDROID_PHONE, "Chrome Mobile", "Android", "mobile"),
        (CHROME_ANDROID_TABLET, "Chrome", "Android", "tablet"),
        (FIREFOX_LINUX, "Firefox", "Linux", "desktop"),
        (EDGE_WINDOWS, "Edge", "Windows", "desktop"),
        (SAMSUNG_TV, "Samsung Internet", "Tizen", "tv"),
    ],
)
def test_browsers_are_named_with_their_os_and_device_type(
    user_agent: str, browser: str, os: str, device: str
) -> None:
    agent = visit.of_user_agent(user_agent)
    assert (agent.browser, agent.os, agent.device, agent.bot) == (browser, os, device, False)


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
        "+https://openai.com/gptbot)",
        # a headless browser, as automated tests and scrapers drive it
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "HeadlessChrome/120.0.0.0 Safari/537.36",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "python-httpx/0.28.1",
        "Go-http-client/1.1",
    ],
)
def test_crawlers_headless_browsers_and_http_libraries_are_bots(user_agent: str) -> None:
    agent = visit.of_user_agent(user_agent)
    assert agent.bot and agent.device == "bot"


def test_an_unknown_or_missing_user_agent_is_not_a_bot_and_names_nothing() -> None:
    for user_agent in ("", "pytest/9", "x"):
        agent = visit.of_user_agent(user_agent)
        assert agent == visit.Agent(None, None, None, False), user_agent


def test_the_answer_for_a_user_agent_is_cached() -> None:
    visit.of_user_agent.cache_clear()
    visit.of_user_agent(FIREFOX_LINUX)
    visit.of_user_agent(FIREFOX_LINUX)
    info = visit.of_user_agent.cache_info()
    assert (info.hits, info.misses) == (1, 1)


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),  # Google DNS, ARIN
        ("1.0.16.1", "JP"),  # APNIC
        ("81.2.69.160", "GB"),  # RIPE NCC
        ("5.9.0.1", "DE"),  # Hetzner, RIPE NCC
        ("41.0.0.1", "ZA"),  # AFRINIC
        ("200.160.2.3", "BR"),  # NIC.br, LACNIC
        ("2a00:1450:4001:80b::200e", "IE"),  # IPv6, registered to Google Ireland
    ],
)
def test_the_country_is_the_one_the_registries_give(ip: str, country: str) -> None:
    assert visit.country(ip) == country


@pytest.mark.parametrize(
    "ip",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "198.51.100.7", "::1", "2001:db8::1", "", "nope"],
)
def test_private_reserved_and_broken_addresses_have_no_country(ip: str) -> None:
    assert visit.country(ip) is None
