"""Write the HTTP API's OpenAPI document to docs/openapi.json (`make openapi`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pulse.api.app import create_app

TARGET = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def render() -> str:
    return json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    TARGET.write_text(render())
    print(
        f"wrote {TARGET.relative_to(Path.cwd()) if TARGET.is_relative_to(Path.cwd()) else TARGET}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
