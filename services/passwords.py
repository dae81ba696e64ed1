"""Password hashing with bcrypt."""

from __future__ import annotations

import bcrypt

# bcrypt uses at most 72 bytes of a password (bcrypt 5 refuses more); longer ones are hashed by their start.
MAX_PASSWORD_BYTES = 72
DEFAULT_ROUNDS = 12


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
