"""A string column stored encrypted: the Stripe keys and the SMTP password the owner saves in Settings.

Values are sealed with Fernet (AES-128-CBC with an HMAC-SHA256) under the portal's secret key, which
``services.secret_key`` installs at start-up from ``PORTAL_SECRET_KEY`` or the data folder, never from
the database: a copy of the database alone (a backup, a dump) does not give the keys away.

A stored value without the ``sealed:`` prefix is one saved before sealing existed; it reads as it is,
and start-up seals it.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

PREFIX = "sealed:v1:"

_fernet: Fernet | None = None


class SecretUnreadable(ValueError):
    """A sealed value that the installed key cannot open: the key changed since it was saved."""


def install_key(key: bytes) -> None:
    """Seal and open with ``key`` (a Fernet key) from now on."""
    global _fernet
    _fernet = Fernet(key)


def _cipher() -> Fernet:
    global _fernet
    if _fernet is None:  # a process that never installed a key (a test): one that dies with it
        _fernet = Fernet(Fernet.generate_key())
    return _fernet


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(plain: str) -> str:
    """The stored form of ``plain``; the empty string stays empty (nothing saved)."""
    if not plain:
        return plain
    return PREFIX + _cipher().encrypt(plain.encode()).decode("ascii")


def unseal(stored: str) -> str:
    """The plain value; raises ``SecretUnreadable`` when the installed key did not seal it."""
    if not is_sealed(stored):
        return stored
    try:
        return _cipher().decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
    except InvalidToken:
        raise SecretUnreadable("a stored secret was sealed with another key") from None


class SealedString(TypeDecorator[str]):
    """A ``String`` whose value is sealed on the way in and opened on the way out."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else unseal(value)
