"""The flow of [1 of 8] over real HTTP against the local runtime started as `make up` does."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from pulse.wiring import WIRING
from tests.e2e.conftest import (
    E2E_DATABASE,
    LocalStack,
    children,
    start_local_stack,
    stop_local_stack,
    wait_gone,
)

pytestmark = pytest.mark.e2e


def _login(client, email: str, password: str = "e2e-passw0rd") -> str:
    assert (
        client.post(
            "/api/v1/auth/register", json={"email": email, "password": password}
        ).status_code
        == 202  # the same answer for a taken email (docs/security.md)
    )
    res = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert res.status_code == 200
    return res.json()["access_token"]


def test_register_login_and_manage_projects(local_stack: LocalStack) -> None:
    with local_stack.client() as client:
        assert client.get("/api/v1/health").json()["status"] == "ok"
        token = _login(client, "owner@example.com")
        auth = {"Authorization": f"Bearer {token}"}

        created = client.post(
            "/api/v1/projects", json={"name": "Shop", "domain": "shop.test"}, headers=auth
        )
        assert created.status_code == 201
        project = created.json()
        assert project["api_key"].startswith("proj_")

        listed = client.get("/api/v1/projects", headers=auth).json()["projects"]
        assert [p["id"] for p in listed] == [project["id"]]

        rotated = client.post(f"/api/v1/projects/{project['id']}/rotate-key", headers=auth)
        assert rotated.status_code == 200
        assert rotated.json()["api_key"] != project["api_key"]

        intruder = {"Authorization": f"Bearer {_login(client, 'intruder@example.com')}"}
        assert client.get(f"/api/v1/projects/{project['id']}", headers=intruder).status_code == 404
        assert client.get("/api/v1/projects", headers=intruder).json()["projects"] == []

        assert client.delete(f"/api/v1/projects/{project['id']}", headers=auth).status_code == 204
        assert client.get(f"/api/v1/projects/{project['id']}", headers=auth).status_code == 404

        no_token = client.get("/api/v1/projects")
        assert no_token.status_code == 401
        assert no_token.headers["www-authenticate"].startswith("Bearer")
        assert client.get("/api/v1/docs").status_code == 200
        assert "/api/v1/projects" in client.get("/api/v1/openapi.json").json()["paths"]


def test_requests_are_served_in_parallel(local_stack: LocalStack) -> None:
    with local_stack.client() as client:
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: client.get("/api/v1/health").status_code, range(40)))
    assert codes == [200] * 40


def test_gateway_answers_like_api_gateway_outside_the_routes(local_stack: LocalStack) -> None:
    with local_stack.client() as client:
        res = client.get("/not-an-api-route")
        assert res.status_code == 404
        assert res.json() == {"message": "Not Found"}
        big = client.post("/api/v1/projects", content=b"x" * (10 * 1024 * 1024 + 1))
        assert big.status_code == 413


def test_ctrl_c_stops_everything_cleanly(tmp_path) -> None:
    stack = start_local_stack(tmp_path, database=f"{E2E_DATABASE}_stop")
    with stack.client() as client:
        assert client.get("/api/v1/health").status_code == 200
    # every function's execution environment and the local Kinesis run as its children
    started = children(stack.process.pid)
    assert len(started) >= len(WIRING.functions) + 1
    assert stop_local_stack(stack) == 0
    assert wait_gone(started, timeout=0) == [], "processes outlived Ctrl-C"
    assert "stopped" in "".join(stack.output)
    # endpoints.json names a running platform's ports: gone once it stopped
    assert stack.data_dir is not None and not (stack.data_dir / "endpoints.json").exists()
    for url in (stack.http_url, stack.aws_url):
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)
