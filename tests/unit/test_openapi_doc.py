"""docs/openapi.json is the API reference: it must match the app (run `make openapi`)."""

from __future__ import annotations

from scripts.export_openapi import TARGET, render


def test_docs_openapi_json_is_current() -> None:
    assert TARGET.read_text() == render(), "docs/openapi.json is stale: run `make openapi`"
