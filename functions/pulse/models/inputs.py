"""Request bodies, validated at the edge with messages a person can act on."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationInfo, field_validator

from pulse.auth.passwords import password_problems

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*(:\d{1,5})?$"
)


# Postgres text cannot hold a NUL character: a string with one is refused at the edge (422).
NO_NUL = r"^[^\x00]*$"


def refuse_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\u0000)")
    return value


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    email: EmailStr = Field(max_length=254)
    password: str

    @field_validator("password")
    @classmethod
    def _password_rules(cls, value: str, info: ValidationInfo) -> str:
        problems = password_problems(value, email=str(info.data.get("email") or "") or None)
        if problems:
            raise ValueError("password " + "; ".join(problems))
        return value


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)

    @field_validator("email")
    @classmethod
    def _email_storable(cls, value: str) -> str:
        return refuse_nul(value)


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=4096)


class LogoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str | None = Field(default=None, max_length=4096)


def normalize_domain(value: str | None) -> str | None:
    """``https://www.Example.com/`` → ``www.example.com``; None or blank → None."""
    if value is None:
        return None
    domain = value.strip().lower()
    domain = re.sub(r"^[a-z][a-z0-9+.-]*://", "", domain).split("/", 1)[0]
    if not domain:
        return None
    if not _DOMAIN.match(domain):
        raise ValueError("domain must be a host name such as example.com")
    return domain


class ProjectCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    domain: str | None = Field(default=None, max_length=260)
    keep_bots: bool | None = Field(
        default=None,
        description="Keep bots' events instead of dropping them at ingest (default false)",
    )

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name must not be blank")
        return refuse_nul(value.strip())

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return normalize_domain(value)


class ProjectUpdateIn(BaseModel):
    """PATCH body: fields left out stay as they are; ``"domain": null`` clears the domain."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    domain: str | None = Field(default=None, max_length=260)
    keep_bots: bool | None = Field(
        default=None,
        description="Keep bots' events instead of dropping them at ingest (default: dropped)",
    )

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("name must not be blank")
        return refuse_nul(value.strip()) if value is not None else None

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        return normalize_domain(value)


class ShareLinkCreateIn(BaseModel):
    """A new share link of a project."""

    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(
        default=None, min_length=1, max_length=200, description="A name for the owner's list"
    )
    password: str | None = Field(
        default=None,
        min_length=8,
        max_length=128,
        description="Asked of everyone who opens the link (8 to 128 characters); none: no password",
    )
    allow_raw: bool = Field(
        default=False,
        description="Also show the raw data: the events with their properties, the users with "
        "their identify properties, and the sessions list (and their CSV exports)",
    )

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("label must not be blank")
        return refuse_nul(value.strip())

    @field_validator("password")
    @classmethod
    def _password(cls, value: str | None) -> str | None:
        return refuse_nul(value) if value is not None else None


class ShareSessionIn(BaseModel):
    """Open a share link: its token, and its password when it has one."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    password: str | None = Field(default=None, max_length=1024, pattern=NO_NUL)
