"""Password hashing with bcrypt.

bcrypt reads at most 72 bytes of a password. Rather than pre-hash longer ones (a second hash format
to recognise and keep forever), a new password is at most ``MAX_PASSWORD_BYTES`` in UTF-8: 72 letters,
digits or symbols, fewer with accented letters or other scripts. ``check_password``
(services.password_change) states it in the requirements shown while typing, for every form that sets
a password, and ``hash_password`` refuses a longer one rather than cut it silently. Hashes made before
this rule were made from a password's first 72 bytes, so ``verify_password`` still reads only those.
"""

from __future__ import annotations

import bcrypt

MAX_PASSWORD_BYTES = 72
DEFAULT_ROUNDS = 12


def hash_password(password: str, *, rounds: int = DEFAULT_ROUNDS) -> str:
    """The bcrypt hash of ``password``, which ``check_password`` has found at most 72 bytes long."""
    secret = password.encode()
    if len(secret) > MAX_PASSWORD_BYTES:  # a form that skipped check_password: a bug, never a silent cut
        raise ValueError(f"a password of {len(secret)} bytes; bcrypt reads only {MAX_PASSWORD_BYTES}")
    return bcrypt.hashpw(secret, bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str | None, *, rounds: int = DEFAULT_ROUNDS) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from.

    Without a hash (an unknown e-mail, a login whose password is not set yet) the password is checked
    against a stand-in of cost ``rounds``, the cost new passwords get, so that answer takes as long as
    a wrong password and does not tell whether the account exists.
    """
    candidate = password.encode(errors="surrogatepass")[:MAX_PASSWORD_BYTES]  # half a character never matches
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
