"""The CDK app (``cdk.json``: ``.venv/bin/python -m pulse_infra.app``): one stack, checked by
cdk-nag's AWS Solutions rules.

Context ``pulse:skipBundling=true`` synthesizes without bundling the Lambda code (no pip, no
network): what the tests and an offline ``cdk synth`` use. Never deploy such a synth.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App

from pulse.wiring import WIRING, Wiring
from pulse_infra import names
from pulse_infra.nag import add_checks
from pulse_infra.stack import PulseStack

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The context ``cdk.json`` gives the app under the CLI (feature flags), for tests that build
    the app themselves."""
    context: dict[str, Any] = json.loads(path.read_text()).get("context", {})
    return context


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes")


def build_app(
    context: Mapping[str, Any] | None = None, *, wiring: Wiring = WIRING
) -> tuple[App, PulseStack]:
    """The app and its one stack; ``context`` as ``cdk -c key=value`` would give it."""
    app = App(context=dict(context or {}))
    if _truthy(app.node.try_get_context(names.CONTEXT_SKIP_BUNDLING)):
        app.node.set_context(names.CONTEXT_BUNDLING_STACKS, [])
    stack = PulseStack(
        app,
        names.STACK_NAME,
        wiring=wiring,
        description="Pulse: self-hosted serverless event analytics",
    )
    add_checks(app)
    return app, stack


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
