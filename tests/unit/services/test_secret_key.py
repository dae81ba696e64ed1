"""Secrets saved in Settings are sealed under a key kept outside the database."""

from __future__ import annotations

import stat
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

import models.sealed
from models.sealed import PREFIX
from services.database import Database
from services.payment_settings import GatewayChange, configured_settings, save_gateway
from services.secret_key import KEY_FILE, install, load_key, seal_stored_secrets
from services.settings import Settings, SettingsError
from services.smtp_settings import SmtpChange, current_smtp_config, save_smtp_settings
from tests.factories import make_organization

STRIPE = GatewayChange("stripe", "sk_test_abcdefgh1234", "pk_test_abcdefgh5678", "whsec_abcdefgh9999")
SMTP = SmtpChange("smtp.acme.example", "465", "ssl", "mailer", "s3cret-pass", "billing@acme.example")


@pytest.fixture(autouse=True)
def own_key() -> Iterator[None]:
    """Each test installs the key it needs; the process's key is put back afterwards."""
    before = models.sealed._fernet
    models.sealed.install_key(Fernet.generate_key())
    yield
    models.sealed._fernet = before


def stored(db: Database) -> dict[str, str]:
    """The secret columns as the database holds them."""
    with db.reading() as session:
        row = session.execute(
            text("SELECT stripe_secret_key, stripe_webhook_secret, smtp_password FROM integration_settings")
        ).one()
    return dict(zip(("stripe_secret_key", "stripe_webhook_secret", "smtp_password"), row, strict=True))


def save_both(db: Database) -> int:
    organization_id = make_organization(db)
    save_gateway(db, organization_id, STRIPE, Settings())
    save_smtp_settings(db, organization_id, SMTP, staff_user_id=None)
    return organization_id


def test_saved_keys_and_password_are_sealed_in_the_database_and_work_as_typed(db: Database) -> None:
    save_both(db)

    for column, value in stored(db).items():
        assert value.startswith(PREFIX), column
    assert not {"sk_test_abcdefgh1234", "whsec_abcdefgh9999", "s3cret-pass"} & set(stored(db).values())
    assert configured_settings(db, Settings()).stripe_secret_key == "sk_test_abcdefgh1234"
    assert configured_settings(db, Settings()).stripe_webhook_secret == "whsec_abcdefgh9999"
    config = current_smtp_config(db, fallback=None)
    assert config is not None
    assert config.password == "s3cret-pass"


def test_secrets_saved_before_sealing_are_sealed_at_start_up_and_still_work(db: Database) -> None:
    save_both(db)
    with db.transaction() as session:  # as a portal from before sealing left them
        session.execute(
            text(
                "UPDATE integration_settings SET stripe_secret_key = 'sk_test_plain0000', "
                "stripe_webhook_secret = 'whsec_plain0000', smtp_password = 'plain-pass'"
            )
        )
    assert configured_settings(db, Settings()).stripe_secret_key == "sk_test_plain0000"  # read as they are

    assert seal_stored_secrets(db) == 3

    assert all(value.startswith(PREFIX) for value in stored(db).values())
    assert configured_settings(db, Settings()).stripe_webhook_secret == "whsec_plain0000"
    config = current_smtp_config(db, fallback=None)
    assert config is not None
    assert config.password == "plain-pass"
    assert seal_stored_secrets(db) == 0  # nothing left to seal


def test_with_another_key_start_up_stops_with_a_message_and_changes_nothing(db: Database) -> None:
    save_both(db)
    before = stored(db)
    models.sealed.install_key(Fernet.generate_key())  # the data folder's key was lost or replaced

    with pytest.raises(SettingsError, match="cannot be read with this secret key"):
        seal_stored_secrets(db)

    assert stored(db) == before


def test_the_data_folders_key_is_made_once_and_readable_by_the_portal_alone(tmp_path) -> None:
    first = load_key(tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)

    assert load_key(tmp_path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_configured_key_wins_over_the_data_folder_and_a_bad_one_is_named(tmp_path) -> None:
    configured = Fernet.generate_key().decode()
    assert load_key(tmp_path, configured) == configured.encode()
    assert not (tmp_path / KEY_FILE).exists()
    with pytest.raises(SettingsError, match="Invalid setting PORTAL_SECRET_KEY"):
        load_key(tmp_path, "not-a-key")


def test_a_damaged_key_file_stops_start_up_with_a_message(tmp_path) -> None:
    (tmp_path / KEY_FILE).write_text("garbage")
    with pytest.raises(SettingsError, match="is damaged"):
        install(tmp_path)


def test_the_longest_password_allowed_fits_once_sealed(db: Database) -> None:
    organization_id = make_organization(db)
    longest = "𝄞" * 255  # 255 characters of four bytes each
    change = SmtpChange("smtp.acme.example", "465", "ssl", "mailer", longest, "a@acme.example")
    save_smtp_settings(db, organization_id, change, staff_user_id=None)
    config = current_smtp_config(db, fallback=None)
    assert config is not None
    assert config.password == longest
