"""What the page-view breakdowns group by, as SQL over an event ``e``: the page path, the
referrer's domain and the UTM source. The rollup queue's trigger (migration 0005) computes the
same; tests/integration/test_breakdowns.py holds the two to the same results."""

from __future__ import annotations

from pulse.data.sessions import PATH

REFERRER = (
    "coalesce(lower(substring(e.referrer from '^[a-z]+://(?:www\\.)?([^/:?#]+)')), '(direct)')"
)
UTM_SOURCE = "coalesce(e.properties->>'utm_source', '(none)')"

# dimension -> (presence kind, expression over an event, its column in the rollup queue)
DIMENSIONS = {
    "path": ("p", PATH, "e.path"),
    "referrer": ("r", REFERRER, "e.referrer"),
    "utm_source": ("m", UTM_SOURCE, "e.utm_source"),
}
