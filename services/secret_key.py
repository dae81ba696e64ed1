"""The portal's secret key, which seals the secrets the owner saves in Settings (``models.sealed``).

It comes from ``PORTAL_SECRET_KEY`` when set (several instances on one database must share it), or
from ``secret_key`` in the data folder, made on first start and readable by the portal's user alone.
Losing it loses the stored Stripe keys and SMTP password (the owner enters them again) and the
two-factor secrets (their people sign in with a recovery code, or the business resets theirs),
nothing else.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import String, column, select, table, update

from models.business_settings import IntegrationSettings
from models.sealed import SecretUnreadable, install_key, is_sealed, unseal
from services.database import Database
from services.private_files import read_or_create
from services.settings import SettingsError

KEY_FILE = "secret_key"
SEALED_COLUMNS = ("stripe_secret_key", "stripe_webhook_secret", "smtp_password")
# The same table as plain strings: the values as stored, sealed or not.
_AS_STORED = table("integration_settings", column("id"), *(column(name, String) for name in SEALED_COLUMNS))


def load_key(data_dir: Path, configured: str = "") -> bytes:
    """``configured`` (``PORTAL_SECRET_KEY``) if given, else the data folder's key, made if missing.

    Raises ``SettingsError`` for a configured key that is not a Fernet key.
    """
    if configured:
        key = configured.strip().encode("ascii", errors="replace")
        try:
            Fernet(key)
        except ValueError:
            raise SettingsError(
                "Invalid setting PORTAL_SECRET_KEY: it must be 32 url-safe base64-encoded bytes "
                '(make one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())")'
            ) from None
        return key
    path = data_dir / KEY_FILE
    key = read_or_create(path, Fernet.generate_key)
    try:
        Fernet(key)
    except ValueError:
        raise SettingsError(f"The secret key in {path} is damaged; restore it from a backup") from None
    return key


def install(data_dir: Path, configured: str = "") -> None:
    """Load the key and seal and open the stored secrets with it from now on."""
    install_key(load_key(data_dir, configured))


def seal_stored_secrets(db: Database) -> int:
    """Seal the secrets saved before sealing existed; returns how many were sealed.

    Raises ``SettingsError`` when a stored secret was sealed with another key: the portal would
    otherwise run without the gateway or SMTP server the owner chose, or with the environment's.
    """
    sealed = 0
    with db.transaction() as session:
        rows = session.execute(select(*_AS_STORED.c)).all()
        for row_id, *values in rows:
            plain: dict[str, str] = {}
            for name, value in zip(SEALED_COLUMNS, values, strict=True):
                if not value:
                    continue
                if not is_sealed(value):
                    plain[name] = value
                    continue
                try:
                    unseal(value)
                except SecretUnreadable:
                    raise _unreadable() from None
            if plain:  # the column type seals them on the way in
                session.execute(
                    update(IntegrationSettings).where(IntegrationSettings.id == row_id).values(**plain)
                )
                sealed += len(plain)
    return sealed


def _unreadable() -> SettingsError:
    return SettingsError(
        "The Stripe keys or SMTP password saved in Settings cannot be read with this secret key "
        f"(PORTAL_SECRET_KEY or {KEY_FILE} in the data folder changed). Restore the key, or empty "
        "the integration_settings table and enter them again in Settings."
    )
