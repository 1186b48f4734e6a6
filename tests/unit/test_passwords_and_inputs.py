from __future__ import annotations

import pytest
from pydantic import ValidationError

from pulse.auth.passwords import hash_password, password_problems, verify_password
from pulse.models.inputs import ProjectCreateIn, ProjectUpdateIn, RegisterIn, normalize_domain


def test_password_rules_each_have_a_message() -> None:
    assert password_problems("abcdefg1") == []
    assert password_problems("abc1") == ["must be at least 8 characters long"]
    assert password_problems("abcdefgh") == ["must contain at least one digit"]
    assert password_problems("12345678") == ["must contain at least one letter"]
    assert password_problems(" abcdefg1") == ["must not start or end with whitespace"]
    assert password_problems("a1" * 65) == ["must be at most 128 characters long"]
    assert password_problems("me1@x.io", email="ME1@x.io") == [
        "must not be the same as the email address"
    ]


def test_register_input_reports_the_password_field() -> None:
    with pytest.raises(ValidationError) as err:
        RegisterIn(email="a@example.com", password="short")
    [problem] = err.value.errors()
    assert problem["loc"] == ("password",)
    assert "at least 8 characters" in problem["msg"]


def test_hash_and_verify_round_trip() -> None:
    hashed = hash_password("s3cret-pass")
    assert hashed.startswith("$argon2id$")
    assert verify_password("s3cret-pass", hashed)[0] is True
    assert verify_password("s3cret-pasS", hashed)[0] is False


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", "example.com"),
        ("https://WWW.Example.com/path?q=1", "www.example.com"),
        ("shop.example.co.uk", "shop.example.co.uk"),
        ("localhost:3000", "localhost:3000"),
        ("   ", None),
        (None, None),
    ],
)
def test_domains_are_normalised(raw: str | None, expected: str | None) -> None:
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize("raw", ["not a domain", "-bad.com", "exa_mple.com", "a..b"])
def test_bad_domains_are_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="host name"):
        normalize_domain(raw)


def test_project_update_knows_which_fields_were_sent() -> None:
    assert ProjectUpdateIn.model_validate({"domain": None}).model_fields_set == {"domain"}
    assert ProjectUpdateIn.model_validate({}).model_fields_set == set()
    assert ProjectCreateIn(name="  Shop ").name == "Shop"
