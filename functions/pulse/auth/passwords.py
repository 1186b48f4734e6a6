"""Password hashing (Argon2id through pwdlib) and the password rules."""

from __future__ import annotations

import functools

from pwdlib import PasswordHash

MIN_LENGTH = 8
MAX_LENGTH = 128


@functools.cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> tuple[bool, str | None]:
    """Whether it matches, and a new hash when the stored one uses outdated parameters."""
    return _hasher().verify_and_update(password, password_hash)


@functools.cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing reveals nothing."""
    return _hasher().hash("no-such-user-password-0")


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """Human-readable reasons the password is refused; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters long")
    if not any(c.isalpha() for c in password):
        problems.append("must contain at least one letter")
    if not any(c.isdigit() for c in password):
        problems.append("must contain at least one digit")
    if password.strip() != password:
        problems.append("must not start or end with whitespace")
    if email and password.lower() == email.lower():
        problems.append("must not be the same as the email address")
    return problems
