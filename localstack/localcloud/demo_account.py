"""The demo user and project that `make up` creates on first start, so that the demo shop and
the seed script have a key to send events with. Kept in ``<data dir>/demo.json``."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from uuid import UUID

DEMO_EMAIL = "demo@pulse.local"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    project_id: str
    api_key: str
    created: bool = False


def ensure_demo_account(data_dir: Path) -> DemoAccount:
    from pulse.auth.passwords import hash_password
    from pulse.data import projects, users
    from pulse.domain.projects import new_api_key

    path = data_dir / "demo.json"
    if path.exists():
        saved = json.loads(path.read_text())
        user = users.get_user_by_email(email=saved["email"])
        if user:
            for project in projects.list_projects(owner_id=user.id):
                if project.id == UUID(saved["project_id"]):
                    return DemoAccount(
                        saved["email"], saved["password"], str(project.id), project.api_key
                    )
    password = "demo-" + secrets.token_urlsafe(9)
    user = users.get_user_by_email(email=DEMO_EMAIL)
    if user is None:
        user = users.insert_user(email=DEMO_EMAIL, password_hash=hash_password(password))
    else:
        users.update_password_hash(user_id=user.id, password_hash=hash_password(password))
    project = projects.insert_project(
        owner_id=user.id, name="Demo shop", domain=None, api_key=new_api_key()
    )
    account = DemoAccount(DEMO_EMAIL, password, str(project.id), project.api_key, created=True)
    path.write_text(json.dumps({k: v for k, v in asdict(account).items() if k != "created"}))
    path.chmod(0o600)
    return account
