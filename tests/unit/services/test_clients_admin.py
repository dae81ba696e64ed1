"""The back office's clients: details with both addresses, the fixed currency, recent invoices, and
contact persons added, re-invited at most five times an hour, disabled and enabled again."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from models import AuditEvent, Client, OutboxEmail, PortalUser
from services.account_details import AddressInput
from services.auth import resolve_session, sign_in
from services.clients import (
    ACTIVE,
    DISABLED,
    INVITED,
    ClientInput,
    client_details,
    create_client,
    currency_is_fixed,
    list_contacts,
    new_client_details,
    recent_invoices,
    update_client,
)
from services.contacts import (
    add_contact,
    disable_contact,
    enable_contact,
    resend_contact_invitation,
)
from services.errors import (
    ContactHasLogin,
    CurrencyFixed,
    InvalidDetails,
    InvalidToken,
    NotFound,
    SignInRefused,
    human_message,
)
from services.invitations import ContactDisabled, InvitationLimitReached, check_token, set_password
from services.outbox import links_for_delivery
from tests.factories import NOW, TODAY, Clock, make_organization, make_sent_invoice
from tests.snapshots import snapshot

BASE_URL = "https://portal.acme.example"
PASSWORD = "Plum-Tractor-Lagoon-47"
BILLING = AddressInput("1 Dock Road", "", "Leeds", "", "LS1 4AP", "GB")
SHIPPING = AddressInput("9 Mill Lane", "Unit 3", "York", "", "YO1 7HH", "GB")


@pytest.fixture
def organization_id(db):
    return make_organization(db)


@pytest.fixture
def client_public_id(db, organization_id):
    return create_client(db, organization_id, ClientInput("Harbour Bakery", "GBP"), clock=Clock()).public_id


def links(db, email):
    """The tokens of the links mailed to ``email``, as the sender opens them (they are stored sealed)."""
    with db.reading() as session:
        sent = session.execute(
            select(OutboxEmail.body_text, OutboxEmail.created_at)
            .where(OutboxEmail.to_addresses == email)
            .order_by(OutboxEmail.id)
        ).all()
    bodies = [links_for_delivery(body, created_at) for body, created_at in sent]
    return [match.group(1) for body in bodies if (match := re.search(r"set-password\?token=([\w-]+)", body))]


def add(db, organization_id, client_public_id, clock, email="cleo@bakery.example"):
    return add_contact(
        db, organization_id, client_public_id, name="Cleo Jones", email=email, base_url=BASE_URL, clock=clock
    )


def test_a_new_client_starts_in_the_business_default_currency(db, organization_id):
    assert new_client_details(db, organization_id).currency == "USD"


def test_a_client_keeps_its_billing_and_shipping_addresses(db, organization_id):
    details = ClientInput(" Harbour  Bakery ", "gbp", address=BILLING, shipping=SHIPPING)
    created = create_client(db, organization_id, details, clock=Clock())
    assert (created.display_name, created.currency) == ("Harbour Bakery", "GBP")
    assert (created.address, created.shipping) == (BILLING, SHIPPING)
    stored = client_details(db, organization_id, created.public_id)
    update_client(db, organization_id, created.public_id, replace(stored, shipping=AddressInput()))
    assert client_details(db, organization_id, created.public_id).shipping == AddressInput()


def test_every_wrong_field_gets_its_message_and_nothing_is_saved(db, organization_id):
    before = snapshot(db)
    bad = ClientInput("", "XYZ", email="not an address", shipping=AddressInput(line1="9 Mill Lane"))
    with pytest.raises(InvalidDetails) as refused:
        create_client(db, organization_id, bad, clock=Clock())
    assert {"display_name", "currency", "email", "shipping.city", "shipping.country"} <= set(
        refused.value.errors
    )
    assert snapshot(db) == before


def test_the_currency_is_fixed_once_the_client_has_an_invoice(db, organization_id, client_public_id):
    assert not currency_is_fixed(db, organization_id, client_public_id)
    with db.reading() as session:
        client_id = session.scalars(select(Client.id).where(Client.public_id == client_public_id)).one()
    make_sent_invoice(db, client_id, 12_000)
    assert currency_is_fixed(db, organization_id, client_public_id)
    stored = client_details(db, organization_id, client_public_id)
    with pytest.raises(CurrencyFixed):
        update_client(db, organization_id, client_public_id, replace(stored, currency="EUR"))
    [row] = recent_invoices(db, organization_id, client_public_id, today=TODAY)
    assert (row.status_label, row.total.minor, row.balance_due.minor, row.total.currency) == (
        "Sent",
        12_000,
        12_000,
        "GBP",
    )


def test_another_business_cannot_see_or_change_the_client(db, organization_id, client_public_id):
    other = make_organization(db, "Other Studio")
    with pytest.raises(NotFound):
        currency_is_fixed(db, other, client_public_id)
    contact = add(db, organization_id, client_public_id, Clock())
    with pytest.raises(NotFound):
        disable_contact(db, other, contact.public_id)


def test_an_address_already_used_by_a_contact_is_refused(db, organization_id, client_public_id):
    clock = Clock()
    add(db, organization_id, client_public_id, clock)
    other_client = create_client(db, organization_id, ClientInput("Mill Cafe", "GBP"), clock=clock)
    before = snapshot(db)
    for target in (client_public_id, other_client.public_id):
        with pytest.raises(InvalidDetails) as refused:
            add(db, organization_id, target, clock, email="Cleo@Bakery.example")
        assert refused.value.errors["email"].startswith(
            "cleo@bakery.example is already the e-mail of a contact"
        )
    assert snapshot(db) == before


def test_a_resent_invitation_replaces_the_first_link(db, organization_id, client_public_id):
    clock = Clock()
    contact = add(db, organization_id, client_public_id, clock)
    assert (contact.state, contact.invited_at) == (INVITED, NOW)
    clock.advance(minutes=5)
    again = resend_contact_invitation(db, organization_id, contact.public_id, base_url=BASE_URL, clock=clock)
    assert again.invited_at == clock.now
    first, second = links(db, "cleo@bakery.example")
    with pytest.raises(InvalidToken) as old:
        check_token(db, first, clock=clock)
    assert old.value.reason == "replaced"
    assert check_token(db, second, clock=clock).email == "cleo@bakery.example"
    set_password(db, second, PASSWORD, PASSWORD, clock=clock, rounds=4)
    [active] = list_contacts(db, organization_id, client_public_id)
    assert active.state == ACTIVE
    with pytest.raises(ContactHasLogin):
        resend_contact_invitation(db, organization_id, contact.public_id, base_url=BASE_URL, clock=clock)


def test_at_most_five_invitations_an_hour_go_to_a_contact(db, organization_id, client_public_id):
    clock = Clock()
    contact = add(db, organization_id, client_public_id, clock)
    for _ in range(4):
        clock.advance(minutes=1)
        resend_contact_invitation(db, organization_id, contact.public_id, base_url=BASE_URL, clock=clock)
    before = snapshot(db)
    with pytest.raises(InvitationLimitReached) as limited:
        resend_contact_invitation(db, organization_id, contact.public_id, base_url=BASE_URL, clock=clock)
    assert snapshot(db) == before
    assert human_message(limited.value, now=clock.now) == (
        "At most 5 invitations an hour can be sent to one contact. Please try again in 56 minutes."
    )
    clock.advance(minutes=57)
    resend_contact_invitation(db, organization_id, contact.public_id, base_url=BASE_URL, clock=clock)
    assert len(links(db, "cleo@bakery.example")) == 6


def test_disabling_a_contact_ends_their_sessions_and_refuses_sign_in(db, organization_id, client_public_id):
    clock = Clock()
    contact = add(db, organization_id, client_public_id, clock)
    [token] = links(db, "cleo@bakery.example")
    set_password(db, token, PASSWORD, PASSWORD, clock=clock, rounds=4)
    issued = sign_in(db, email="cleo@bakery.example", password=PASSWORD, ip_address="10.0.0.1", clock=clock)
    assert resolve_session(db, issued.token, clock=clock) is not None

    disabled = disable_contact(db, organization_id, contact.public_id, clock=clock)

    assert disabled.state == DISABLED
    assert resolve_session(db, issued.token, clock=clock) is None
    with pytest.raises(SignInRefused):
        sign_in(db, email="cleo@bakery.example", password=PASSWORD, ip_address="10.0.0.1", clock=clock)
    enabled = enable_contact(db, organization_id, contact.public_id, clock=clock)
    assert enabled.state == ACTIVE
    assert resolve_session(db, issued.token, clock=clock) is None  # an ended session stays ended
    assert sign_in(db, email="cleo@bakery.example", password=PASSWORD, ip_address="10.0.0.1", clock=clock)
    with db.reading() as session:
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        user = session.scalars(select(PortalUser).where(PortalUser.public_id == contact.public_id)).one()
    assert user.is_active
    assert [action for action in actions if action in ("contact.disabled", "contact.enabled")] == [
        "contact.disabled",
        "contact.enabled",
    ]


def test_a_disabled_contact_gets_no_invitation_and_their_link_does_not_work(
    db, organization_id, client_public_id
):
    clock = Clock()
    contact = add(db, organization_id, client_public_id, clock)
    [token] = links(db, "cleo@bakery.example")
    disable_contact(db, organization_id, contact.public_id, clock=clock)
    with pytest.raises(InvalidToken):
        check_token(db, token, clock=clock)
    with pytest.raises(ContactDisabled) as refused:
        resend_contact_invitation(db, organization_id, contact.public_id, base_url=BASE_URL, clock=clock)
    assert human_message(refused.value) == (
        "cleo@bakery.example is disabled. Enable the contact before sending an invitation."
    )
    enable_contact(db, organization_id, contact.public_id, clock=clock)
    assert check_token(db, token, clock=clock).email == "cleo@bakery.example"
