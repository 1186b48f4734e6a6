"""Share links: a read-only, revocable way into one project's reports.

- The owner makes a link (optionally with a password, optionally with the raw data), lists and
  revokes them. The link's token (``shr_…``, 256 random bits) is shown once; only its SHA-256
  hash is stored, so a database leak gives no working link.
- A visitor opens a link: ``open_session`` checks the token and the password (Argon2id, attempts
  limited by ``pulse.auth.share_limits``) and gives a share-session token (a JWT of its own
  audience, ``pulse.auth.share_tokens``).
- Every read with a share session looks its link up again (``live_link``): revoking a link (or
  deleting its project) ends every session made with it at its next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from uuid import UUID

from pulse.auth import passwords, share_limits, share_tokens
from pulse.data import projects, share_links
from pulse.exceptions import AuthenticationError, NotFoundError, PermissionDeniedError
from pulse.models.stored import ShareLinkRow
from pulse.observability import logger
from pulse.realtime import registry

TOKEN_PREFIX = "shr_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    owner_id: UUID,
    project_id: UUID,
    *,
    label: str | None,
    password: str | None,
    allow_raw: bool,
) -> tuple[ShareLinkRow, str]:
    """A new link and its token (the only time the token is known)."""
    token = new_token()
    row = share_links.insert_link(
        project_id=project_id,
        owner_id=owner_id,
        token_hash=token_hash(token),
        label=label,
        password_hash=passwords.hash_password(password) if password else None,
        allow_raw=allow_raw,
    )
    if row is None:
        raise NotFoundError("project not found")
    return row, token


def list_for(owner_id: UUID, project_id: UUID) -> list[ShareLinkRow]:
    if projects.get_project(project_id=project_id, owner_id=owner_id) is None:
        raise NotFoundError("project not found")
    return share_links.list_links(project_id=project_id, owner_id=owner_id)


def revoke(owner_id: UUID, project_id: UUID, link_id: UUID) -> None:
    """Delete the link; its sessions' next request is refused, and its live connections are
    forgotten now (a connection's every message looks its link up anyway, so a Redis failure
    here leaves pushes of visitors now, nothing more, until that connection's next message)."""
    if not share_links.delete_link(link_id=link_id, project_id=project_id, owner_id=owner_id):
        raise NotFoundError("share link not found")
    try:
        registry.forget_link(str(link_id))
    except Exception:  # the link is gone from Postgres: that is the revocation
        logger.warning("could not forget the revoked link's live connections", exc_info=True)


@dataclass(frozen=True)
class ShareSession:
    access_token: str
    expires_in: int
    link: ShareLinkRow
    project_name: str


def open_session(token: str, password: str | None, *, ip: str) -> ShareSession:
    """A share session for the link ``token`` names. An unknown (or revoked) token is a 404;
    a link with a password wants it: none is a 401, a wrong one a 401 (and counted)."""
    link = share_links.get_by_token_hash(token_hash=token_hash(token))
    if link is None:
        raise NotFoundError("this share link does not exist or was revoked")
    if link.password_hash is not None:
        if not password:
            raise AuthenticationError("this share link needs its password")
        share_limits.reserve_attempt(link_id=link.id, ip=ip)
        ok, _ = passwords.verify_password(password, link.password_hash)
        if not ok:
            raise AuthenticationError("wrong password for this share link")
        share_limits.record_success(link_id=link.id, ip=ip)
    name = share_links.project_name(project_id=link.project_id)
    if name is None:  # the project went away meanwhile
        raise NotFoundError("this share link does not exist or was revoked")
    access, ttl = share_tokens.issue(link_id=link.id, project_id=link.project_id)
    return ShareSession(access_token=access, expires_in=ttl, link=link, project_name=name)


def live_link(claims: share_tokens.ShareClaims) -> ShareLinkRow:
    """The link of a share session, if it still exists (it is looked up on every request)."""
    link = share_links.get_link(link_id=claims.link_id)
    if link is None or link.project_id != claims.project_id:
        raise AuthenticationError("this share link was revoked")
    return link


def authorize(
    claims: share_tokens.ShareClaims, project_id: UUID, *, needs_raw: bool
) -> ShareLinkRow:
    """What a share session may read: its own project's reports, and the raw data only when
    its link allows it. Another project does not exist for it (404, as for an account)."""
    link = live_link(claims)
    if link.project_id != project_id:
        raise NotFoundError("project not found")
    if needs_raw and not link.allow_raw:
        raise PermissionDeniedError("this share link does not include the raw events and users")
    return link
