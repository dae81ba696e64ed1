"""Home's data read in one transaction is what the dashboard, the credit actions and the saved methods
say each on its own: the same figures, the same payable invoices (less what a debit in flight covers)."""

from __future__ import annotations

from sqlalchemy import event

from services.auto_pay import auto_pay_view
from services.credit_actions import credit_options
from services.dashboard import get_dashboard
from services.gateways.base import BankAccountDetails, CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.home import home_data
from services.money import Money
from services.online_payments import pay, plan_pay_invoice
from services.saved_methods import list_saved_methods
from tests.unit.services.test_credit_actions import books, clock

__all__ = ["books", "clock"]


def test_home_reads_what_each_part_reads_on_its_own(db, books, clock):
    principal, invoice = books
    account = BankAccountDetails("Ann", "DE89370400440532013000", "ann@client.example", True)
    plan = plan_pay_invoice(db, principal, invoice.public_id, Money(25000, "USD"), clock=clock)
    pay(db, SandboxGateway(clock=clock), principal, plan, ChargeRequest("", 0, "", "", bank_account=account),
        clock=clock)  # fmt: skip

    data = home_data(db, principal, "sandbox", now=clock())

    assert data.dashboard == get_dashboard(db, principal)
    assert data.options == credit_options(db, principal, clock=clock)
    assert data.options.invoices[0].can_take == Money(5000, "USD")
    assert data.methods == list_saved_methods(db, principal, "sandbox")
    assert data.auto_pay == (auto_pay_view(db, principal.client_id, clock=clock) if data.methods else None)


def test_home_is_one_transaction(db, books, clock):
    principal, invoice = books
    card = CardDetails("4242424242424242", 12, 2030, "123", "Ann")  # saved: auto-pay's view is read too
    plan = plan_pay_invoice(db, principal, invoice.public_id, Money(1000, "USD"), clock=clock)
    saving = ChargeRequest("", 0, "", "", card=card, save_method=True)
    pay(db, SandboxGateway(clock=clock), principal, plan, saving, clock=clock)
    begun: list[object] = []

    def began(connection: object) -> None:
        begun.append(connection)

    event.listen(db.engine, "begin", began)
    try:
        data = home_data(db, principal, "sandbox", now=clock())
    finally:
        event.remove(db.engine, "begin", began)
    assert len(begun) == 1
    assert data.methods
    assert data.auto_pay is not None
    assert not data.auto_pay.status.enabled
