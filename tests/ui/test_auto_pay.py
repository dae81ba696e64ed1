"""Auto-pay in Card Details on Home: the switch opens the consent, nothing is turned on without the
customer's agreement, the consent kept is the text shown, and the switch turns it off again; the invoice
page then says when auto-pay will charge an invoice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from models import AutoPayConsent, Client, PortalUser
from services import portal
from services.auto_pay import auto_pay_status
from services.demo import CUSTOMER_EMAIL
from services.invoices import create_invoice, send_invoice
from services.totals import LineInput
from tests.ui.conftest import open_home, post_login
from tests.ui.test_credits_and_cards import save_a_card, until

WAIT = 100


def client_id() -> int:
    with portal.current().db.reading() as session:
        return session.scalars(
            select(Client.id)
            .join(PortalUser, PortalUser.client_id == Client.id)
            .where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()


def consents() -> list[AutoPayConsent]:
    with portal.current().db.reading() as session:
        return list(session.scalars(select(AutoPayConsent).order_by(AutoPayConsent.id)))


def switch(user):
    (element,) = user.find(marker="auto-pay-switch").elements
    return element


async def test_the_customer_turns_auto_pay_on_after_the_consent_and_off_again(user):
    await post_login(user)
    await save_a_card(user)
    await open_home(user)
    await user.should_see("Turn it on to have each new invoice charged on its due date")

    switch(user).value = True
    await user.should_see("Turn on auto-pay", retries=WAIT)
    await user.should_see("I authorise", retries=WAIT)
    (shown,) = user.find(marker="auto-pay-consent").elements
    assert "charge my Visa ending 4242 automatically for each new invoice" in shown.text
    user.find("Cancel").click()
    assert consents() == []  # nothing without the customer's agreement
    assert switch(user).value is False

    switch(user).value = True
    await user.should_see("I agree, turn on auto-pay", retries=WAIT)
    (shown,) = user.find(marker="auto-pay-consent").elements
    text = shown.text
    user.find(marker="auto-pay-agree").click()
    await until(lambda: len(consents()) == 1)
    [consent] = consents()
    assert consent.consent_text == text
    assert consent.revoked_at is None
    await user.should_see(
        "each new invoice is charged to your Visa ending 4242 on its due date", retries=WAIT
    )

    # A new invoice: Home and the invoice's page say when auto-pay charges it.
    today = portal.current().clock().date()
    ref = create_invoice(
        portal.current().db,
        client_id=client_id(),
        lines=[LineInput("Monthly retainer", Decimal(1), 12000)],
        issue_date=today,
        due_date=today + timedelta(days=14),
    )
    send_invoice(portal.current().db, ref.id)
    await open_home(user)
    await user.should_see(f"Invoice {ref.number} will be charged automatically on", retries=WAIT)
    await user.open(f"/invoices/{ref.public_id}")
    await user.should_see("This invoice will be charged automatically on", retries=WAIT)
    await user.should_see("with your Visa ending 4242", retries=WAIT)

    await open_home(user)
    user.find("Remove").click()  # the dialog says what removing the card does to auto-pay; not confirmed
    await user.should_see("Auto-pay charges it: removing it turns auto-pay off.", retries=WAIT)
    user.find("Cancel").click()
    switch(user).value = False
    await until(lambda: not auto_pay_status(portal.current().db, client_id()).enabled)
    await user.should_see("Auto-pay is off: nothing will be charged automatically.", retries=WAIT)
    [consent] = consents()
    assert consent.revoked_at is not None  # kept on record
    await user.open(f"/invoices/{ref.public_id}")
    await user.should_see("Balance Due", retries=WAIT)
    await user.should_not_see(marker="auto-pay-note")


async def test_without_a_saved_card_there_is_no_switch(user):
    await post_login(user)
    await open_home(user)
    await user.should_see("No saved cards or bank accounts")
    await user.should_not_see(marker="auto-pay-switch")
