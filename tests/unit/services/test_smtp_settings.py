"""The SMTP server entered in Settings: validated, stored without showing the password back, and the one
the background sender uses from its next round (else the environment's)."""

from __future__ import annotations

import smtplib
import socket

import pytest
from sqlalchemy import select

from models import AuditEvent
from services.errors import InvalidDetails
from services.i18n import using_language
from services.mailer import SmtpConfig
from services.smtp_settings import (
    RETYPE_FOR_NEW_SERVER,
    SmtpChange,
    explain_smtp_error,
    get_smtp_settings,
    save_smtp_settings,
    smtp_config_provider,
)
from tests.factories import Clock, make_organization

ENVIRONMENT = SmtpConfig(host="env-smtp.example", port=25, security="none", from_address="env@acme.example")


def change(**values: str) -> SmtpChange:
    fields = {
        "host": "smtp.acme.example",
        "port": "465",
        "security": "ssl",
        "user": "mailer",
        "password": "s3cret-pass",
        "from_address": "Acme Studio <billing@acme.example>",
    }
    fields.update(values)
    return SmtpChange(**fields)


@pytest.fixture
def organization(db):
    return make_organization(db)


def test_saved_settings_are_shown_back_without_the_password(db, organization):
    save_smtp_settings(db, organization, change(), staff_user_id=None, clock=Clock())

    shown = get_smtp_settings(db, organization, fallback=None)

    assert (shown.host, shown.port, shown.security, shown.user, shown.from_address) == (
        "smtp.acme.example",
        465,
        "ssl",
        "mailer",
        "Acme Studio <billing@acme.example>",
    )
    assert shown.has_password is True
    assert "s3cret-pass" not in repr(shown)


def test_an_empty_password_keeps_the_stored_one_for_the_same_server(db, organization):
    save_smtp_settings(db, organization, change(), staff_user_id=None)
    save_smtp_settings(
        db, organization, change(password="", from_address="billing@acme.example"), staff_user_id=None
    )

    config = smtp_config_provider(db, fallback=None)()

    assert config is not None
    assert (config.port, config.from_address, config.password) == (465, "billing@acme.example", "s3cret-pass")


@pytest.mark.parametrize(
    "moved",
    [{"host": "smtp.elsewhere.example"}, {"port": "587"}, {"security": "starttls"}, {"user": "other"}],
)
def test_another_server_without_the_password_typed_again_is_refused_and_nothing_changes(
    db, organization, moved
):
    save_smtp_settings(db, organization, change(), staff_user_id=None)

    with pytest.raises(InvalidDetails) as refused:
        save_smtp_settings(db, organization, change(password="", **moved), staff_user_id=None)

    assert refused.value.errors == {"password": RETYPE_FOR_NEW_SERVER}
    config = smtp_config_provider(db, fallback=None)()
    assert config is not None
    assert (config.host, config.port, config.security, config.user, config.password) == (
        "smtp.acme.example",
        465,
        "ssl",
        "mailer",
        "s3cret-pass",
    )


def test_another_server_with_the_password_typed_again_is_saved(db, organization):
    save_smtp_settings(db, organization, change(), staff_user_id=None)

    save_smtp_settings(
        db, organization, change(host="smtp.elsewhere.example", password="new-pass"), staff_user_id=None
    )

    config = smtp_config_provider(db, fallback=None)()
    assert config is not None
    assert (config.host, config.password) == ("smtp.elsewhere.example", "new-pass")


@pytest.mark.parametrize("moved", [{"user": ""}, {"host": ""}])
def test_a_server_that_needs_no_password_drops_the_stored_one(db, organization, moved):
    """Without a user name nothing signs in, and an empty host uses the environment's own password:
    the stored one has nowhere left to go, so it is not kept for a server it was not saved with."""
    save_smtp_settings(db, organization, change(), staff_user_id=None)

    shown = save_smtp_settings(db, organization, change(password="", **moved), staff_user_id=None)

    assert shown.has_password is False
    save_smtp_settings(db, organization, change(password=""), staff_user_id=None)  # back: nothing to send
    config = smtp_config_provider(db, fallback=None)()
    assert config is not None
    assert config.password == ""


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"port": "0"}, "port"),
        ({"port": "65536"}, "port"),
        ({"port": "twenty-five"}, "port"),
        ({"from_address": "billing at acme"}, "from_address"),
        ({"from_address": ""}, "from_address"),
        ({"from_address": "billing@acme.example\r\nBcc: all@x.example"}, "from_address"),
        ({"host": "smtp acme.example"}, "host"),
        ({"host": "https://smtp.acme.example"}, "host"),
        ({"security": "tls1.0"}, "security"),
    ],
)
def test_a_wrong_value_is_named_and_nothing_is_saved(db, organization, values, field):
    with pytest.raises(InvalidDetails) as refused:
        save_smtp_settings(db, organization, change(**values), staff_user_id=None)

    assert field in refused.value.errors
    assert get_smtp_settings(db, organization, fallback=None).host == ""


def test_the_provider_reads_saved_settings_each_time_and_falls_back_to_the_environment(db, organization):
    provide = smtp_config_provider(db, fallback=ENVIRONMENT)
    assert provide() == ENVIRONMENT

    save_smtp_settings(db, organization, change(), staff_user_id=None)
    saved = provide()
    assert saved is not None
    assert (saved.host, saved.port, saved.security, saved.user, saved.password, saved.from_address) == (
        "smtp.acme.example",
        465,
        "ssl",
        "mailer",
        "s3cret-pass",
        "Acme Studio <billing@acme.example>",
    )

    save_smtp_settings(db, organization, change(host=""), staff_user_id=None)
    assert provide() == ENVIRONMENT


def test_without_either_server_the_provider_says_wait(db, organization):
    assert smtp_config_provider(db, fallback=None)() is None


def test_saving_is_audited_by_field_name_never_the_password(db, organization):
    save_smtp_settings(db, organization, change(), staff_user_id=None)

    with db.reading() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.smtp_changed")).one()
    assert "password" in event.details["changed"]
    assert "s3cret-pass" not in str(event.details)


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "connection was refused"),
        (socket.gaierror(-2, "Name or service not known"), "could not be found"),
        (TimeoutError("timed out"), "did not answer in time"),
        (
            smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication credentials invalid"),
            "user name and password",
        ),
    ],
)
def test_server_errors_are_explained_in_plain_words(error, words):
    assert words in explain_smtp_error(error, ENVIRONMENT)


def test_server_errors_are_explained_in_the_owners_language():
    refused = ConnectionRefusedError(111, "Connection refused")
    server = f"{ENVIRONMENT.host}:{ENVIRONMENT.port}"

    with using_language("de"):
        explained = explain_smtp_error(refused, ENVIRONMENT)

    assert explained == (
        f"Unter {server} hat nichts geantwortet: Die Verbindung wurde abgelehnt. Prüfen Sie Host und Port."
    )
