"""Password hashing with bcrypt."""

from __future__ import annotations

import bcrypt

# bcrypt uses at most 72 bytes of a password (bcrypt 5 refuses more); longer ones are hashed by their start.
MAX_PASSWORD_BYTES = 72
DEFAULT_ROUNDS = 12


def hash_password(password: str, *, rounds: int = DEFAULT_ROUNDS) -> str:
    return bcrypt.hashpw(password.encode()[:MAX_PASSWORD_BYTES], bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str | None, *, rounds: int = DEFAULT_ROUNDS) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from.

    Without a hash (an unknown e-mail, a login whose password is not set yet) the password is checked
    against a stand-in of cost ``rounds``, the cost new passwords get, so that answer takes as long as
    a wrong password and does not tell whether the account exists.
    """
    candidate = password.encode()[:MAX_PASSWORD_BYTES]
    if not password_hash:
        bcrypt.checkpw(candidate, _stand_in_hash(rounds))
        return False
    try:
        return bcrypt.checkpw(candidate, password_hash.encode())
    except ValueError:
        return False


def _stand_in_hash(rounds: int) -> bytes:
    # A well-formed bcrypt hash of cost ``rounds`` that no password matches: checking against it costs
    # exactly what checking against a real one of that cost does, and making it costs nothing.
    return b"$2b$%02d$" % rounds + b"StandInSaltNoPassword." + b"NoPasswordHasThisHashValue12345"
