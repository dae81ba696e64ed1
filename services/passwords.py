"""Password hashing (bcrypt) and the stated password requirements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import bcrypt

# bcrypt reads only the first 72 bytes; longer passwords would be silently shortened.
MAX_PASSWORD_BYTES = 72
DEFAULT_ROUNDS = 12


@dataclass(frozen=True)
class Requirement:
    text: str
    check: Callable[[str], bool]


REQUIREMENTS = (
    Requirement("At least 10 characters", lambda p: len(p) >= 10),
    Requirement("An upper-case and a lower-case letter", lambda p: p.lower() != p and p.upper() != p),
    Requirement("A digit", lambda p: any(c.isdigit() for c in p)),
    Requirement("A symbol such as - ! or #", lambda p: any(not c.isalnum() and not c.isspace() for c in p)),
    Requirement("At most 72 bytes", lambda p: len(p.encode()) <= MAX_PASSWORD_BYTES),
)


def unmet_requirements(password: str) -> list[str]:
    """The requirements ``password`` does not meet, in the order they are shown."""
    return [requirement.text for requirement in REQUIREMENTS if not requirement.check(password)]


def hash_password(password: str, *, rounds: int = DEFAULT_ROUNDS) -> str:
    return bcrypt.hashpw(password.encode()[:MAX_PASSWORD_BYTES], bcrypt.gensalt(rounds)).decode()


# Checked against when the e-mail is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = hash_password("not a real password", rounds=DEFAULT_ROUNDS)


def verify_password(password: str, password_hash: str | None) -> bool:
    candidate = password.encode()[:MAX_PASSWORD_BYTES]
    if not password_hash:
        bcrypt.checkpw(candidate, _DUMMY_HASH.encode())
        return False
    try:
        return bcrypt.checkpw(candidate, password_hash.encode())
    except ValueError:
        return False
