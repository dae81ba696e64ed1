"""Card Details: saved cards are kept once, edited at the gateway first, removed for good, one default."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEvent, SavedPaymentMethod
from services.errors import InvalidPaymentDetails, NotFound
from services.gateways.base import (
    BankAccountDetails,
    BillingAddress,
    CardDetails,
    ChargeRequest,
    MethodUpdate,
)
from services.gateways.sandbox import SandboxGateway
from services.i18n import using_language
from services.online_payments import pay, plan_pay_invoice
from services.saved_methods import (
    gateway_customer,
    list_saved_methods,
    make_default,
    remove_saved_method,
    update_saved_card,
)
from tests.factories import Clock, make_customer, make_sent_invoice

ADDRESS = BillingAddress(line1="1 Elm Row", city="Leeds", postal_code="LS1 1AA", country="GB")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def books(db, clock):
    principal = make_customer(db)
    invoices = [make_sent_invoice(db, principal.client_id, 1000 * (n + 1), due_in_days=n) for n in range(4)]
    other = make_customer(db, principal.organization_id, name="Other Co", email="bob@other.example")
    return principal, other, invoices, SandboxGateway(clock=clock)


def save_card(db, gateway, principal, invoice, clock, number="4242424242424242", expires=(12, 2030)):
    month, year = expires
    details = CardDetails(number, month, year, "123", "Ann Example", ADDRESS)
    request = ChargeRequest("", 0, "USD", "", card=details, save_method=True)
    pay(db, gateway, principal, plan_pay_invoice(db, principal, invoice.public_id), request, clock=clock)
    return list_saved_methods(db, principal, "sandbox")


def test_a_saved_card_keeps_its_display_facts_and_the_first_is_the_default(db, books, clock):
    principal, _, invoices, gateway = books
    (method,) = save_card(db, gateway, principal, invoices[0], clock)
    assert method.label == "Visa •••• 4242, expires 12/2030"
    for language, label in (
        ("de", "gültig bis 12/2030"),
        ("fr", "expire fin 12/2030"),
        ("es", "caduca 12/2030"),
    ):
        with using_language(language):  # as each reader sees it on Home, on Pay and in auto-pay's consent
            assert method.label == f"Visa •••• 4242, {label}"
    assert (method.holder_name, method.billing_address, method.is_default) == ("Ann Example", ADDRESS, True)
    with db.reading() as session:
        row = session.scalars(select(SavedPaymentMethod)).one()
        stored = " ".join(str(value) for value in vars(row).values())
    assert "4242424242424242" not in stored
    assert "123" not in stored.split()


def test_paying_again_with_a_saved_card_saves_nothing_new(db, books, clock):
    principal, _, invoices, gateway = books
    (method,) = save_card(db, gateway, principal, invoices[0], clock)
    request = ChargeRequest("", 0, "USD", "", saved_method_id=method.gateway_method_id, save_method=True)
    plan = plan_pay_invoice(db, principal, invoices[1].public_id)
    assert pay(db, gateway, principal, plan, request, clock=clock).status == "succeeded"
    assert len(list_saved_methods(db, principal, "sandbox")) == 1


def test_typing_a_saved_card_in_again_updates_it_instead_of_saving_it_twice(db, books, clock):
    principal, _, invoices, gateway = books
    (first,) = save_card(db, gateway, principal, invoices[0], clock)
    moved = BillingAddress(line1="2 Oak Lane", city="York", postal_code="YO1 7HH", country="GB")
    details = CardDetails("4242 4242 4242 4242", 12, 2030, "321", "Ann B. Example", moved)
    request = ChargeRequest("", 0, "USD", "", card=details, save_method=True)
    pay(db, gateway, principal, plan_pay_invoice(db, principal, invoices[1].public_id), request, clock=clock)
    (again,) = list_saved_methods(db, principal, "sandbox")
    assert (again.public_id, again.is_default, again.label) == (first.public_id, True, first.label)
    assert (again.holder_name, again.billing_address) == ("Ann B. Example", moved)
    assert again.gateway_method_id != first.gateway_method_id  # the gateway's newest id for the card
    paid_with_it = ChargeRequest("", 0, "USD", "", saved_method_id=again.gateway_method_id)
    plan = plan_pay_invoice(db, principal, invoices[2].public_id)
    assert pay(db, gateway, principal, plan, paid_with_it, clock=clock).status == "succeeded"


def test_the_same_number_with_another_expiry_is_another_card(db, books, clock):
    principal, _, invoices, gateway = books
    save_card(db, gateway, principal, invoices[0], clock)
    renewed = save_card(db, gateway, principal, invoices[1], clock, expires=(1, 2031))
    assert [m.label for m in renewed] == [
        "Visa •••• 4242, expires 12/2030",
        "Visa •••• 4242, expires 01/2031",
    ]


def test_editing_a_card_changes_expiry_name_and_address(db, books, clock):
    principal, _, invoices, gateway = books
    (method,) = save_card(db, gateway, principal, invoices[0], clock)
    moved = BillingAddress(line1="9 Oak Lane", city="Bath", postal_code="BA1 1AA", country="GB")
    update_saved_card(
        db, gateway, principal, method.public_id, MethodUpdate(3, 2031, "Ann B. Example", moved)
    )
    (edited,) = list_saved_methods(db, principal, "sandbox")
    assert edited.label == "Visa •••• 4242, expires 03/2031"
    assert (edited.holder_name, edited.billing_address) == ("Ann B. Example", moved)
    with db.reading() as session:
        assert session.scalar(
            select(AuditEvent.action).where(AuditEvent.action.like("payment_method.%"))
        ) == ("payment_method.updated")


@pytest.mark.parametrize(
    ("month", "year", "message"),
    [(13, 2031, "between 1 and 12"), (0, 2031, "between 1 and 12"), (1, 2020, "in the past")],
)
def test_a_bad_expiry_is_refused_and_changes_nothing(db, books, clock, month, year, message):
    principal, _, invoices, gateway = books
    (method,) = save_card(db, gateway, principal, invoices[0], clock)
    with pytest.raises(InvalidPaymentDetails, match=message):
        update_saved_card(db, gateway, principal, method.public_id, MethodUpdate(month, year, "X", ADDRESS))
    assert list_saved_methods(db, principal, "sandbox") == (method,)


def test_another_clients_card_cannot_be_seen_edited_or_removed(db, books, clock):
    principal, other, invoices, gateway = books
    (method,) = save_card(db, gateway, principal, invoices[0], clock)
    assert list_saved_methods(db, other, "sandbox") == ()
    with pytest.raises(NotFound):
        update_saved_card(db, gateway, other, method.public_id, MethodUpdate(1, 2031, "Bob", ADDRESS))
    with pytest.raises(NotFound):
        remove_saved_method(db, gateway, other, method.public_id)
    with pytest.raises(NotFound):
        make_default(db, gateway, other, method.public_id)
    assert list_saved_methods(db, principal, "sandbox") == (method,)


def test_removing_the_default_passes_it_to_the_newest_and_the_card_is_gone(db, books, clock):
    principal, _, invoices, gateway = books
    save_card(db, gateway, principal, invoices[0], clock)
    clock.advance(minutes=1)
    save_card(db, gateway, principal, invoices[1], clock, number="4000000000009995")  # declined: not saved
    clock.advance(minutes=1)
    account = BankAccountDetails("Ann", "DE89370400440532013000", "ann@client.example", True)
    request = ChargeRequest("", 0, "USD", "", bank_account=account, save_method=True)
    pay(db, gateway, principal, plan_pay_invoice(db, principal, invoices[2].public_id), request, clock=clock)
    first, second = list_saved_methods(db, principal, "sandbox")
    assert (first.label, first.is_default) == ("Visa •••• 4242, expires 12/2030", True)
    assert (second.label, second.is_default) == ("SEPA Direct Debit •••• 3000", False)
    remove_saved_method(db, gateway, principal, first.public_id)
    (left,) = list_saved_methods(db, principal, "sandbox")
    assert (left.public_id, left.is_default) == (second.public_id, True)
    with pytest.raises(NotFound):
        remove_saved_method(db, gateway, principal, first.public_id)


def test_make_default_puts_that_method_first(db, books, clock):
    principal, _, invoices, gateway = books
    save_card(db, gateway, principal, invoices[0], clock)
    clock.advance(minutes=1)
    newer = save_card(db, gateway, principal, invoices[1], clock, expires=(1, 2031))[1]
    assert not newer.is_default
    make_default(db, gateway, principal, newer.public_id)
    methods = list_saved_methods(db, principal, "sandbox")
    assert methods[0].public_id == newer.public_id
    assert [m.is_default for m in methods] == [True, False]


def test_the_gateway_customer_is_created_once_per_client(db, books, clock):
    principal, other, _, gateway = books
    first = gateway_customer(db, gateway, principal, clock=clock)
    assert gateway_customer(db, gateway, principal, clock=clock) == first
    assert gateway_customer(db, gateway, other, clock=clock) != first
