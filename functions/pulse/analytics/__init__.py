"""Analytics: query parameters, exact figures from rollups plus raw events, responses."""
