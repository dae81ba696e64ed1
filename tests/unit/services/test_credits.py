"""Available credits and retainer payments: applying them to invoices, refund requests and refunds."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import (
    Allocation,
    AllocationKind,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentKind,
    Refund,
    RefundRequest,
    RefundRequestStatus,
    RefundSource,
)
from services.balances import ClientBalances, client_balances, ledger_balance
from services.credit_notes import issue_credit_note, void_credit_note
from services.credits import (
    apply_to_invoice,
    approve_refund_request,
    decline_refund_request,
    refund_available,
    request_refund,
)
from services.database import Database
from services.errors import (
    AmountExceedsBalance,
    DocumentHasApplications,
    InsufficientCredit,
    InvalidAmount,
    InvalidStatusChange,
    InvoiceNotPayable,
    NotFound,
    WrongCurrency,
)
from services.invoices import create_invoice, send_invoice
from services.money import Money
from services.payments import record_payment
from services.records import DocumentRef
from services.totals import LineInput
from tests.factories import (
    NOW,
    TODAY,
    fixed_clock,
    make_client,
    make_organization,
    make_portal_user,
    make_sent_invoice,
)

CREDIT, RETAINER = RefundSource.CREDIT, RefundSource.RETAINER


@pytest.fixture
def client_id(db: Database) -> int:
    return make_client(db, make_organization(db))


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def credit_note(db: Database, client_id: int, amount_minor: int, *, issued: date = TODAY) -> DocumentRef:
    return issue_credit_note(
        db,
        client_id=client_id,
        lines=[LineInput("Refund for a cancelled session", Decimal(1), amount_minor)],
        issue_date=issued,
        reason="cancelled",
        clock=fixed_clock,
    )


def excess_payment(db: Database, client_id: int, amount_minor: int, *, days_later: int = 0) -> int:
    """A payment allocated to nothing: all of it is available credit."""
    ref = record_payment(
        db,
        client_id=client_id,
        amount=usd(amount_minor),
        method="cash",
        received_at=NOW + timedelta(days=days_later),
        clock=fixed_clock,
    )
    return ref.id


def paid_retainer(db: Database, client_id: int, amount_minor: int, *, days_later: int = 0) -> int:
    ref = create_invoice(
        db,
        client_id=client_id,
        lines=[LineInput("Advance", Decimal(1), amount_minor)],
        issue_date=TODAY,
        due_date=TODAY,
        kind=InvoiceKind.RETAINER,
        clock=fixed_clock,
    )
    send_invoice(db, ref.id, clock=fixed_clock)
    payment = record_payment(
        db,
        client_id=client_id,
        amount=usd(amount_minor),
        method="card",
        received_at=NOW + timedelta(days=days_later),
        kind=PaymentKind.RETAINER,
        retainer_invoice_id=ref.id,
        clock=fixed_clock,
    )
    return payment.id


def apply(
    db: Database, client_id: int, invoice_id: int, amount_minor: int, source: RefundSource = CREDIT
) -> None:
    apply_to_invoice(
        db,
        client_id=client_id,
        invoice_id=invoice_id,
        amount=usd(amount_minor),
        source=source,
        clock=fixed_clock,
    )


def ask_refund(db: Database, client_id: int, amount_minor: int, source: RefundSource = CREDIT) -> int:
    return request_refund(
        db,
        client_id=client_id,
        portal_user_id=None,
        source=source,
        amount=usd(amount_minor),
        reason="closing",
    ).id


def balances(db: Database, client_id: int) -> ClientBalances:
    """The client's balances, checked against the ledger on every look."""
    with db.reading() as session:
        found = client_balances(session, client_id, "USD")
        assert found.net == ledger_balance(session, client_id, "USD")
        return found


def invoice_balance(db: Database, invoice_id: int) -> tuple[str, int]:
    with db.reading() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        return invoice.status, invoice.balance_due_minor


def note_state(db: Database, note_id: int) -> tuple[str, int]:
    with db.reading() as session:
        note = session.get(CreditNote, note_id)
        assert note is not None
        return note.status, note.remaining_minor


def unapplied(db: Database, payment_id: int) -> int:
    with db.reading() as session:
        payment = session.get(Payment, payment_id)
        assert payment is not None
        return payment.unapplied_minor


def allocations_to(db: Database, invoice_id: int) -> list[tuple[str, int | None, int | None, int]]:
    with db.reading() as session:
        rows = session.scalars(
            select(Allocation).where(Allocation.invoice_id == invoice_id).order_by(Allocation.id)
        ).all()
        return [(row.kind, row.payment_id, row.credit_note_id, row.amount_minor) for row in rows]


def refunds(db: Database) -> list[tuple[int | None, int | None, int | None, int]]:
    with db.reading() as session:
        rows = session.scalars(select(Refund).order_by(Refund.id)).all()
        return [(row.payment_id, row.credit_note_id, row.refund_request_id, row.amount_minor) for row in rows]


# --- credit notes --------------------------------------------------------------------------------


def test_issued_credit_note_is_available_credit(db: Database, client_id: int) -> None:
    note = credit_note(db, client_id, 2500)
    assert note.number == "CN-00001"
    assert note_state(db, note.id) == (CreditNoteStatus.OPEN, 2500)
    found = balances(db, client_id)
    assert (found.available_credits, found.net) == (usd(2500), usd(-2500))


def test_voiding_an_unused_credit_note_withdraws_the_credit(db: Database, client_id: int) -> None:
    note = credit_note(db, client_id, 2500)
    void_credit_note(db, note.id, clock=fixed_clock)
    assert note_state(db, note.id) == (CreditNoteStatus.VOID, 0)
    assert balances(db, client_id).available_credits == usd(0)
    with pytest.raises(InvalidStatusChange):
        void_credit_note(db, note.id)


def test_a_credit_note_in_use_cannot_be_voided(db: Database, client_id: int) -> None:
    note = credit_note(db, client_id, 2500)
    invoice = make_sent_invoice(db, client_id, 1000)
    apply(db, client_id, invoice.id, 1000)
    with pytest.raises(DocumentHasApplications):
        void_credit_note(db, note.id)
    assert note_state(db, note.id) == (CreditNoteStatus.OPEN, 1500)
    assert balances(db, client_id).available_credits == usd(1500)


# --- applying credit -----------------------------------------------------------------------------


def test_applying_a_credit_note_pays_part_of_an_invoice(db: Database, client_id: int) -> None:
    note = credit_note(db, client_id, 2500)
    invoice = make_sent_invoice(db, client_id, 10000)
    apply(db, client_id, invoice.id, 2500)
    assert invoice_balance(db, invoice.id) == ("partially_paid", 7500)
    assert note_state(db, note.id) == (CreditNoteStatus.CLOSED, 0)
    assert allocations_to(db, invoice.id) == [(AllocationKind.CREDIT, None, note.id, 2500)]
    found = balances(db, client_id)
    assert (found.outstanding, found.available_credits) == (usd(7500), usd(0))


def test_applying_an_excess_payment_pays_an_invoice(db: Database, client_id: int) -> None:
    payment = excess_payment(db, client_id, 5000)
    invoice = make_sent_invoice(db, client_id, 3000)
    apply(db, client_id, invoice.id, 3000)
    assert invoice_balance(db, invoice.id) == ("paid", 0)
    assert unapplied(db, payment) == 2000
    assert allocations_to(db, invoice.id) == [(AllocationKind.CREDIT, payment, None, 3000)]
    assert balances(db, client_id).available_credits == usd(2000)


def test_credit_is_drawn_from_the_oldest_credit_note_first(db: Database, client_id: int) -> None:
    newer = credit_note(db, client_id, 1000, issued=TODAY)
    older = credit_note(db, client_id, 1000, issued=TODAY - timedelta(days=20))
    invoice = make_sent_invoice(db, client_id, 5000)
    apply(db, client_id, invoice.id, 1500)
    assert note_state(db, older.id) == (CreditNoteStatus.CLOSED, 0)
    assert note_state(db, newer.id) == (CreditNoteStatus.OPEN, 500)


def test_credit_is_drawn_from_the_oldest_excess_payment_first(db: Database, client_id: int) -> None:
    newer = excess_payment(db, client_id, 1000, days_later=5)
    older = excess_payment(db, client_id, 1000, days_later=1)
    invoice = make_sent_invoice(db, client_id, 5000)
    apply(db, client_id, invoice.id, 1200)
    assert (unapplied(db, older), unapplied(db, newer)) == (0, 800)


def test_credit_notes_and_excess_payments_together_pay_an_invoice(db: Database, client_id: int) -> None:
    note = credit_note(db, client_id, 1000)
    payment = excess_payment(db, client_id, 1000)
    invoice = make_sent_invoice(db, client_id, 2000)
    apply(db, client_id, invoice.id, 2000)
    assert invoice_balance(db, invoice.id) == ("paid", 0)
    assert (note_state(db, note.id)[1], unapplied(db, payment)) == (0, 0)
    assert sorted(amount for *_, amount in allocations_to(db, invoice.id)) == [1000, 1000]
    assert balances(db, client_id).available_credits == usd(0)


def test_applying_more_credit_than_available_is_refused_and_changes_nothing(
    db: Database, client_id: int
) -> None:
    note = credit_note(db, client_id, 1000)
    paid_retainer(db, client_id, 9000)  # retainer balance is not credit
    invoice = make_sent_invoice(db, client_id, 5000)
    with pytest.raises(InsufficientCredit) as raised:
        apply(db, client_id, invoice.id, 1001)
    assert (raised.value.source, raised.value.available, raised.value.requested) == (
        "credits",
        usd(1000),
        usd(1001),
    )
    assert invoice_balance(db, invoice.id) == ("sent", 5000)
    assert note_state(db, note.id) == (CreditNoteStatus.OPEN, 1000)
    assert allocations_to(db, invoice.id) == []


def test_applying_more_credit_than_the_invoice_balance_is_refused(db: Database, client_id: int) -> None:
    note = credit_note(db, client_id, 5000)
    invoice = make_sent_invoice(db, client_id, 1000)
    with pytest.raises(AmountExceedsBalance):
        apply(db, client_id, invoice.id, 1001)
    assert note_state(db, note.id) == (CreditNoteStatus.OPEN, 5000)
    assert invoice_balance(db, invoice.id) == ("sent", 1000)


def test_credit_applies_only_to_the_clients_own_open_invoices(db: Database, client_id: int) -> None:
    credit_note(db, client_id, 5000)
    other = make_client(db, make_organization(db, "Other"), name="Else")
    theirs = make_sent_invoice(db, other, 1000)
    retainer = create_invoice(
        db,
        client_id=client_id,
        lines=[LineInput("Advance", Decimal(1), 1000)],
        issue_date=TODAY,
        due_date=TODAY,
        kind=InvoiceKind.RETAINER,
    )
    send_invoice(db, retainer.id)
    draft = create_invoice(
        db,
        client_id=client_id,
        lines=[LineInput("Draft", Decimal(1), 1000)],
        issue_date=TODAY,
        due_date=TODAY,
    )
    with pytest.raises(NotFound):
        apply(db, client_id, theirs.id, 1000)
    with pytest.raises(NotFound):
        apply(db, client_id, retainer.id, 1000)
    with pytest.raises(InvoiceNotPayable):
        apply(db, client_id, draft.id, 1000)
    assert balances(db, client_id).available_credits == usd(5000)
    assert invoice_balance(db, theirs.id) == ("sent", 1000)


@pytest.mark.parametrize(("amount", "error"), [(Money(100, "EUR"), WrongCurrency), (usd(0), InvalidAmount)])
def test_credit_in_another_currency_or_of_nothing_is_refused(
    db: Database, client_id: int, amount: Money, error: type[Exception]
) -> None:
    credit_note(db, client_id, 5000)
    invoice = make_sent_invoice(db, client_id, 1000)
    with pytest.raises(error):
        apply_to_invoice(db, client_id=client_id, invoice_id=invoice.id, amount=amount, source=CREDIT)
    assert invoice_balance(db, invoice.id) == ("sent", 1000)


# --- applying retainer ---------------------------------------------------------------------------


def test_applying_a_retainer_payment_pays_an_invoice(db: Database, client_id: int) -> None:
    retainer_payment = paid_retainer(db, client_id, 50000)
    invoice = make_sent_invoice(db, client_id, 20000)
    apply(db, client_id, invoice.id, 20000, RETAINER)
    assert invoice_balance(db, invoice.id) == ("paid", 0)
    assert unapplied(db, retainer_payment) == 30000
    assert allocations_to(db, invoice.id) == [(AllocationKind.RETAINER, retainer_payment, None, 20000)]
    found = balances(db, client_id)
    assert (found.outstanding, found.available_retainer, found.available_credits) == (
        usd(0),
        usd(30000),
        usd(0),
    )


def test_retainer_is_drawn_oldest_first(db: Database, client_id: int) -> None:
    newer = paid_retainer(db, client_id, 1000, days_later=3)
    older = paid_retainer(db, client_id, 1000, days_later=1)
    invoice = make_sent_invoice(db, client_id, 5000)
    apply(db, client_id, invoice.id, 1500, RETAINER)
    assert (unapplied(db, older), unapplied(db, newer)) == (0, 500)


def test_credit_cannot_be_applied_as_retainer(db: Database, client_id: int) -> None:
    credit_note(db, client_id, 5000)
    excess_payment(db, client_id, 5000)
    invoice = make_sent_invoice(db, client_id, 1000)
    with pytest.raises(InsufficientCredit) as raised:
        apply(db, client_id, invoice.id, 1000, RETAINER)
    assert (raised.value.source, raised.value.available) == ("retainer payments", usd(0))
    assert invoice_balance(db, invoice.id) == ("sent", 1000)


# --- refund requests -----------------------------------------------------------------------------


def test_refund_request_reserves_its_amount(db: Database, client_id: int) -> None:
    credit_note(db, client_id, 3000)
    invoice = make_sent_invoice(db, client_id, 5000)
    user = make_portal_user(db, client_id, "ann@client.example")
    request = request_refund(
        db, client_id=client_id, portal_user_id=user, source=CREDIT, amount=usd(2000), clock=fixed_clock
    )
    assert request.amount == usd(2000)
    found = balances(db, client_id)
    # still the client's credit, but held for the refund
    assert (found.available_credits, found.reserved_credits) == (usd(3000), usd(2000))
    with pytest.raises(InsufficientCredit) as raised:
        apply(db, client_id, invoice.id, 1001)
    assert raised.value.available == usd(1000)
    apply(db, client_id, invoice.id, 1000)
    assert invoice_balance(db, invoice.id) == ("partially_paid", 4000)


def test_reserved_amount_cannot_be_requested_twice(db: Database, client_id: int) -> None:
    credit_note(db, client_id, 3000)
    ask_refund(db, client_id, 2000)
    with pytest.raises(InsufficientCredit) as raised:
        ask_refund(db, client_id, 1001)
    assert raised.value.available == usd(1000)
    ask_refund(db, client_id, 1000)
    with pytest.raises(InsufficientCredit):
        ask_refund(db, client_id, 1)
    assert balances(db, client_id).reserved_credits == usd(3000)


def test_reserved_amount_cannot_be_refunded_by_the_business_as_well(db: Database, client_id: int) -> None:
    payment = excess_payment(db, client_id, 3000)
    ask_refund(db, client_id, 3000)
    with pytest.raises(InsufficientCredit):
        refund_available(db, client_id=client_id, source=CREDIT, amount=usd(1), clock=fixed_clock)
    assert unapplied(db, payment) == 3000
    assert refunds(db) == []


def test_refund_request_above_the_available_amount_is_refused(db: Database, client_id: int) -> None:
    credit_note(db, client_id, 3000)
    with pytest.raises(InsufficientCredit):
        ask_refund(db, client_id, 3001)
    with pytest.raises(InsufficientCredit):
        ask_refund(db, client_id, 1, RETAINER)
    with db.reading() as session:
        assert session.scalars(select(RefundRequest)).all() == []


def test_declining_a_refund_request_releases_the_reserved_amount(db: Database, client_id: int) -> None:
    note = credit_note(db, client_id, 3000)
    invoice = make_sent_invoice(db, client_id, 3000)
    request_id = ask_refund(db, client_id, 3000)
    decline_refund_request(
        db, request_id, staff_user_id=None, note="please use it instead", clock=fixed_clock
    )
    with db.reading() as session:
        request = session.get(RefundRequest, request_id)
        assert request is not None
        assert (request.status, request.decision_note, request.decided_at) == (
            RefundRequestStatus.DECLINED,
            "please use it instead",
            NOW,
        )
    assert balances(db, client_id).reserved_credits == usd(0)
    apply(db, client_id, invoice.id, 3000)
    assert note_state(db, note.id) == (CreditNoteStatus.CLOSED, 0)
    assert refunds(db) == []


def test_approving_a_refund_request_records_the_refund(db: Database, client_id: int) -> None:
    note = credit_note(db, client_id, 1000)
    payment = excess_payment(db, client_id, 3000)
    request_id = ask_refund(db, client_id, 2500)
    approve_refund_request(db, request_id, staff_user_id=None, clock=fixed_clock)
    assert refunds(db) == [(None, note.id, request_id, 1000), (payment, None, request_id, 1500)]
    assert note_state(db, note.id) == (CreditNoteStatus.CLOSED, 0)
    assert unapplied(db, payment) == 1500
    found = balances(db, client_id)
    assert (found.available_credits, found.reserved_credits) == (usd(1500), usd(0))
    with db.reading() as session:
        request = session.get(RefundRequest, request_id)
        assert request is not None
        assert (request.status, request.decided_at) == (RefundRequestStatus.APPROVED, NOW)
        # refunds are money paid back: the ledger now owes the client 2500 less
        assert ledger_balance(session, client_id, "USD") == usd(-1500)


def test_approving_a_retainer_refund_request_pays_back_retainer(db: Database, client_id: int) -> None:
    retainer_payment = paid_retainer(db, client_id, 50000)
    request_id = ask_refund(db, client_id, 50000, RETAINER)
    assert balances(db, client_id).reserved_retainer == usd(50000)
    approve_refund_request(db, request_id, staff_user_id=None)
    assert refunds(db) == [(retainer_payment, None, request_id, 50000)]
    found = balances(db, client_id)
    assert (found.available_retainer, found.reserved_retainer, found.net) == (usd(0), usd(0), usd(0))


@pytest.mark.parametrize("decided", ["approved", "declined"])
def test_a_refund_request_is_decided_only_once(db: Database, client_id: int, decided: str) -> None:
    excess_payment(db, client_id, 3000)
    request_id = ask_refund(db, client_id, 1000)
    if decided == "approved":
        approve_refund_request(db, request_id, staff_user_id=None)
    else:
        decline_refund_request(db, request_id, staff_user_id=None)
    before = refunds(db), balances(db, client_id)
    with pytest.raises(InvalidStatusChange) as raised:
        approve_refund_request(db, request_id, staff_user_id=None)
    assert raised.value.status == decided
    with pytest.raises(InvalidStatusChange):
        decline_refund_request(db, request_id, staff_user_id=None)
    assert (refunds(db), balances(db, client_id)) == before


def test_deciding_an_unknown_refund_request_is_refused(db: Database) -> None:
    with pytest.raises(NotFound):
        approve_refund_request(db, 31337, staff_user_id=None)


# --- refunds by the business ---------------------------------------------------------------------


def test_business_refunds_available_credit_oldest_first(db: Database, client_id: int) -> None:
    older = excess_payment(db, client_id, 1000, days_later=1)
    newer = excess_payment(db, client_id, 1000, days_later=2)
    refund_available(
        db, client_id=client_id, source=CREDIT, amount=usd(1500), refunded_at=NOW + timedelta(days=3)
    )
    assert refunds(db) == [(older, None, None, 1000), (newer, None, None, 500)]
    assert (unapplied(db, older), unapplied(db, newer)) == (0, 500)
    found = balances(db, client_id)
    assert (found.available_credits, found.net) == (usd(500), usd(-500))


def test_business_cannot_refund_more_than_available(db: Database, client_id: int) -> None:
    paid_retainer(db, client_id, 1000)
    with pytest.raises(InsufficientCredit):
        refund_available(db, client_id=client_id, source=RETAINER, amount=usd(1001))
    assert refunds(db) == []
    assert balances(db, client_id).available_retainer == usd(1000)


# --- reservations survive voids ------------------------------------------------------------------


def test_a_credit_note_held_by_a_refund_request_cannot_be_voided(db: Database, client_id: int) -> None:
    note = credit_note(db, client_id, 3000)
    request_id = ask_refund(db, client_id, 2000)
    with pytest.raises(InvalidStatusChange) as raised:
        void_credit_note(db, note.id)
    assert (raised.value.number, raised.value.wanted) == (note.number, "voided")
    assert note_state(db, note.id) == (CreditNoteStatus.OPEN, 3000)
    approve_refund_request(db, request_id, staff_user_id=None)  # the reserved money is still there
    assert refunds(db) == [(None, note.id, request_id, 2000)]


def test_a_credit_note_can_be_voided_when_other_credit_covers_the_reservation(
    db: Database, client_id: int
) -> None:
    note = credit_note(db, client_id, 3000)
    excess_payment(db, client_id, 2000)
    ask_refund(db, client_id, 2000)
    void_credit_note(db, note.id)
    found = balances(db, client_id)
    assert (found.available_credits, found.reserved_credits) == (usd(2000), usd(2000))
