"""Payment reminders: each rule sends one reminder per invoice on its day (a run after an outage catches up
once), in the customer's language with the business's own wording if it has one, carrying a pay link
and the invoice's PDF; never for a paid, void, draft or in-flight invoice or an excluded client, and at
most once however many runs or schedulers there are."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from models import (
    AuditEvent,
    Client,
    Invoice,
    InvoiceReminder,
    Organization,
    OutboxAttachment,
    OutboxEmail,
    PortalUser,
    ReminderSettings,
    StaffUser,
)
from services.database import Database
from services.errors import InvalidDetails, OwnerOnly
from services.gateways.base import BankAccountDetails, CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.i18n import using_language
from services.invoices import create_invoice, void_invoice
from services.jobs import reminders_job
from services.mailer import SmtpConfig, deliver_due
from services.money import Money
from services.online_payments import pay, plan_pay_invoice
from services.outbox import links_for_delivery
from services.pay_links import open_pay_link
from services.reminders import (
    PLACEHOLDERS,
    REMINDER_TEXTS,
    REMINDERS_JOB,
    STAGES,
    RuleInput,
    RunReport,
    client_reminders,
    describe_rule,
    get_reminder_setup,
    get_reminder_text,
    next_run,
    restore_reminder_text,
    run_reminders,
    save_reminder_setup,
    save_reminder_text,
    send_due_reminders,
    set_client_reminders,
)
from services.scheduler import Scheduler, job_state
from services.staff_auth import StaffPrincipal
from services.totals import LineInput
from tests.factories import NOW, Clock, make_customer, make_sent_invoice

BASE_URL = "https://portal.acme.example"
PAY_LINK = re.compile(r"https://portal\.acme\.example/pay-link\?token=([A-Za-z0-9_-]+)")
SUGGESTED = [RuleInput("before", "3"), RuleInput("on"), RuleInput("after", "7"), RuleInput("after", "30")]
CONFIG = SmtpConfig(host="127.0.0.1", port=2525, security="none", from_address="billing@acme.example")
ALLOWED = "{client}, {business}, {number}, {amount}, {due_date}, {days}"
DUE = date(2026, 6, 25)  # the invoice's due date: sent on 15 June (NOW), due in ten days


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def books(db, clock):
    """A client with a contact and an invoice of $100.00 due on 25 June, and the business's owner."""
    principal = make_customer(db)
    invoice = make_sent_invoice(db, principal.client_id, 10000, due_in_days=10)
    return principal, invoice, make_owner(db, principal.organization_id)


def make_owner(db: Database, organization_id: int, role: str = "owner") -> StaffPrincipal:
    with db.transaction() as session:
        user = StaffUser(
            organization_id=organization_id,
            name="Owen Owner",
            email=f"{role}@acme.example",
            password_hash="-",
            role=role,
            created_at=NOW,
        )
        session.add(user)
        session.flush()
        return StaffPrincipal(user.id, organization_id, user.name, user.email, role, 0)


def turn_on(db, owner, clock, rules=SUGGESTED):
    return save_reminder_setup(db, owner, enabled=True, rules=rules, clock=clock)


def run_on(db, organization_id, clock, day: date, hour: int = 9) -> int:
    clock.now = at(day, hour)
    report, _ = send_due_reminders(db, organization_id, base_url=BASE_URL, clock=clock)
    return sent(report)


def sent(report: RunReport | None) -> int:
    assert report is not None
    return report.sent


def reminders(db) -> list[tuple[str, int, str, date]]:
    with db.reading() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    Invoice.number, InvoiceReminder.rule_days, InvoiceReminder.stage, InvoiceReminder.sent_on
                )
                .join(Invoice, Invoice.id == InvoiceReminder.invoice_id)
                .order_by(InvoiceReminder.id)
            )
        ]


def reminder_emails(db) -> list[OutboxEmail]:
    with db.reading() as session:
        ids = session.scalars(select(InvoiceReminder.email_id).order_by(InvoiceReminder.id)).all()
        return [session.get_one(OutboxEmail, email_id) for email_id in ids]


def all_emails(db) -> int:
    with db.reading() as session:
        return len(session.scalars(select(OutboxEmail.id)).all())


# --- when reminders go out -----------------------------------------------------------------------------


def test_each_rule_sends_one_reminder_on_its_day_and_never_again(db, books, clock):
    principal, invoice, owner = books
    turn_on(db, owner, clock)
    organization_id = principal.organization_id

    sent = {
        day: run_on(db, organization_id, clock, day) for day in _days(date(2026, 6, 16), date(2026, 7, 31))
    }

    assert {day: count for day, count in sent.items() if count} == {
        date(2026, 6, 22): 1,  # three days before
        date(2026, 6, 25): 1,  # on the day
        date(2026, 7, 2): 1,  # a week after
        date(2026, 7, 25): 1,  # thirty days after
    }
    assert reminders(db) == [
        (invoice.number, -3, "before", date(2026, 6, 22)),
        (invoice.number, 0, "due", date(2026, 6, 25)),
        (invoice.number, 7, "overdue", date(2026, 7, 2)),
        (invoice.number, 30, "overdue", date(2026, 7, 25)),
    ]
    assert run_on(db, organization_id, clock, date(2026, 7, 25), hour=15) == 0  # the same day again
    subjects = [email.subject for email in reminder_emails(db)]
    assert subjects == [
        f"Reminder: invoice {invoice.number} is due on Jun 25, 2026",
        f"Invoice {invoice.number} is due today",
        f"Overdue: invoice {invoice.number} was due on Jun 25, 2026",
        f"Overdue: invoice {invoice.number} was due on Jun 25, 2026",
    ]
    assert reminder_emails(db)[0].to_addresses == "ann@client.example,billing@clientltd.example"


def test_a_run_after_an_outage_sends_only_the_latest_reminder_it_missed(db, books, clock):
    principal, invoice, owner = books
    turn_on(db, owner, clock)  # on 15 June; then the portal is down until 3 July

    assert run_on(db, principal.organization_id, clock, date(2026, 7, 3)) == 1

    assert reminders(db) == [(invoice.number, 7, "overdue", date(2026, 7, 3))]
    assert run_on(db, principal.organization_id, clock, date(2026, 7, 4)) == 0


def test_turned_on_reminders_start_with_todays_and_none_for_days_before(db, books, clock):
    principal, invoice, owner = books
    clock.now = at(date(2026, 7, 10), hour=8)  # the invoice is 15 days overdue when reminders come on
    turn_on(db, owner, clock)

    assert run_on(db, principal.organization_id, clock, date(2026, 7, 10), hour=8) == 0
    assert run_on(db, principal.organization_id, clock, date(2026, 7, 25)) == 1
    assert reminders(db) == [(invoice.number, 30, "overdue", date(2026, 7, 25))]


def test_no_reminder_for_a_rule_whose_day_came_before_the_invoice_was_sent(db, books, clock):
    principal, _, owner = books
    turn_on(db, owner, clock, [RuleInput("on"), RuleInput("after", "7")])
    late = make_sent_invoice(  # issued on 1 June, due on the 14th, sent only on the 15th
        db, principal.client_id, 5000, issue_date=date(2026, 6, 1), due_in_days=13
    )

    assert run_on(db, principal.organization_id, clock, date(2026, 6, 15), hour=13) == 0
    assert run_on(db, principal.organization_id, clock, date(2026, 6, 21)) == 1
    assert reminders(db) == [(late.number, 7, "overdue", date(2026, 6, 21))]


def test_the_business_time_zone_decides_which_day_it_is(db, books, clock):
    principal, _, owner = books
    with db.transaction() as session:
        session.execute(
            update(Organization)
            .where(Organization.id == principal.organization_id)
            .values(time_zone="Pacific/Auckland")
        )
    turn_on(db, owner, clock, [RuleInput("on")])

    clock.now = datetime(2026, 6, 24, 11, 30, tzinfo=UTC)  # 23:30 on the 24th in Auckland: not yet
    assert sent(send_due_reminders(db, principal.organization_id, base_url=BASE_URL, clock=clock)[0]) == 0
    clock.now = datetime(2026, 6, 24, 12, 30, tzinfo=UTC)  # 00:30 on the 25th in Auckland: the due date
    report, following = send_due_reminders(db, principal.organization_id, base_url=BASE_URL, clock=clock)
    assert sent(report) == 1
    assert following == datetime(2026, 6, 24, 21, 0, tzinfo=UTC)  # 9:00 on the 25th in Auckland


def test_the_job_comes_back_at_nine_in_the_business_time_zone_across_a_clock_change():
    # Berlin: 9:00 is 7:00 UTC in summer and 8:00 UTC in winter; the clocks go back on 25 October.
    assert next_run(datetime(2026, 10, 24, 8, 0, tzinfo=UTC), "Europe/Berlin") == datetime(
        2026, 10, 25, 8, 0, tzinfo=UTC
    )
    assert next_run(datetime(2026, 6, 1, 6, 59, tzinfo=UTC), "Europe/Berlin") == datetime(
        2026, 6, 1, 7, 0, tzinfo=UTC
    )


# --- which invoices and clients ------------------------------------------------------------------------


def test_no_reminder_for_a_paid_void_draft_or_in_flight_invoice(db, books, clock):
    principal, open_invoice, owner = books
    paid = make_sent_invoice(db, principal.client_id, 2000, due_in_days=10)
    void = make_sent_invoice(db, principal.client_id, 3000, due_in_days=10)
    void_invoice(db, void.id, clock=clock)
    draft = create_invoice(
        db,
        client_id=principal.client_id,
        lines=[LineInput("Draft work", Decimal(1), 4000)],
        issue_date=NOW.date(),
        due_date=DUE,
        clock=clock,
    )
    in_flight = make_sent_invoice(db, principal.client_id, 5000, due_in_days=10)
    gateway = SandboxGateway(clock=clock, settle_delay=timedelta(days=30))
    card = ChargeRequest("", 0, "USD", "", card=CardDetails("4242424242424242", 12, 2030, "123", "Ann"))
    assert (
        pay(db, gateway, principal, plan_pay_invoice(db, principal, paid.public_id), card, clock=clock).status
        == "succeeded"
    )
    debit = ChargeRequest(
        "",
        0,
        "USD",
        "",
        bank_account=BankAccountDetails("Ann", "DE89370400440532013000", "ann@client.example", True),
    )
    outcome = pay(
        db, gateway, principal, plan_pay_invoice(db, principal, in_flight.public_id), debit, clock=clock
    )
    assert outcome.status == "processing"  # a bank debit on its way: the invoice is in flight
    turn_on(db, owner, clock, [RuleInput("on")])

    assert run_on(db, principal.organization_id, clock, DUE) == 1

    assert [number for number, *_ in reminders(db)] == [open_invoice.number]
    assert draft.number not in str(reminders(db))


def test_a_partly_paid_invoice_is_reminded_of_what_is_left(db, books, clock):
    principal, invoice, owner = books
    gateway = SandboxGateway(clock=clock)
    card = ChargeRequest("", 0, "USD", "", card=CardDetails("4242424242424242", 12, 2030, "123", "Ann"))
    plan = plan_pay_invoice(db, principal, invoice.public_id, Money(2550, "USD"))
    assert pay(db, gateway, principal, plan, card, clock=clock).status == "succeeded"
    turn_on(db, owner, clock, [RuleInput("on")])

    assert run_on(db, principal.organization_id, clock, DUE) == 1

    [email] = reminder_emails(db)
    assert "$74.50" in email.body_text


def test_an_excluded_client_gets_no_reminder_and_none_later_for_those_days(db, books, clock):
    principal, invoice, owner = books
    other = make_customer(db, principal.organization_id, name="Other Co", email="olga@other.example")
    theirs = make_sent_invoice(db, other.client_id, 7000, due_in_days=10)
    turn_on(db, owner, clock)
    client_public_id = _client_public_id(db, principal.client_id)

    set_client_reminders(db, owner, client_public_id, False, clock=clock)
    assert run_on(db, principal.organization_id, clock, date(2026, 6, 22)) == 1  # the other client's only
    assert client_reminders(db, principal.organization_id, client_public_id).send is False
    set_client_reminders(db, owner, client_public_id, True, clock=clock)
    assert run_on(db, principal.organization_id, clock, date(2026, 6, 23)) == 0  # no late one for the 22nd
    assert run_on(db, principal.organization_id, clock, DUE) == 2

    assert [(number, days) for number, days, *_ in reminders(db)] == [
        (theirs.number, -3),
        (invoice.number, 0),
        (theirs.number, 0),
    ]
    recent = client_reminders(db, principal.organization_id, client_public_id)
    assert (recent.send, [(r.invoice_number, r.rule_days, r.stage) for r in recent.recent]) == (
        True,
        [(invoice.number, 0, "due")],
    )
    with db.reading() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.client_id == principal.client_id)
        ).all()
    assert actions.count("client.reminders_updated") == 2


def test_reminders_turned_off_send_nothing_and_finish_the_job(db, books, clock):
    principal, _, owner = books
    turn_on(db, owner, clock)
    save_reminder_setup(db, owner, enabled=False, rules=SUGGESTED, clock=clock)

    clock.now = at(DUE)
    assert run_reminders(db, principal.organization_id, base_url=BASE_URL, clock=clock) is None
    assert reminders(db) == []


def test_a_client_without_an_address_gets_nothing_and_the_job_goes_on(db, books, clock):
    principal, _, owner = books
    with db.transaction() as session:
        session.execute(update(Client).where(Client.id == principal.client_id).values(email=""))
        session.execute(
            update(PortalUser).where(PortalUser.client_id == principal.client_id).values(is_active=False)
        )
    turn_on(db, owner, clock, [RuleInput("on")])

    assert run_on(db, principal.organization_id, clock, DUE) == 0
    assert reminders(db) == []


def test_an_address_the_outbox_refuses_costs_that_client_its_reminder_and_no_one_else(db, books, clock):
    principal, _, owner = books
    other = make_customer(db, principal.organization_id, name="Other Co", email="olga@other.example")
    theirs = make_sent_invoice(db, other.client_id, 7000, due_in_days=10)
    with db.transaction() as session:
        session.execute(update(Client).where(Client.id == principal.client_id).values(email="accounts@"))
    turn_on(db, owner, clock, [RuleInput("on")])

    assert run_on(db, principal.organization_id, clock, DUE) == 1

    assert [number for number, *_ in reminders(db)] == [theirs.number]
    assert all_emails(db) == 1  # nothing half-written for the refused one


# --- at most once ----------------------------------------------------------------------------------------


def test_two_runs_at_the_same_moment_send_each_reminder_once(db, books, clock):
    principal, _, owner = books
    for number in range(5):
        make_sent_invoice(db, principal.client_id, 1000 + number, due_in_days=10)
    turn_on(db, owner, clock, [RuleInput("on")])
    clock.now = at(DUE)
    start = threading.Barrier(2)
    reports, failures = [], []

    def run() -> None:
        start.wait()
        try:
            reports.append(
                send_due_reminders(db, principal.organization_id, base_url=BASE_URL, clock=clock)[0]
            )
        except BaseException as error:  # (reported below, not lost in the thread)
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sum(sent(report) for report in reports) == 6
    assert len(reminders(db)) == 6
    assert all_emails(db) == 6  # no e-mail of a reminder that lost the race was kept


async def test_two_schedulers_send_the_days_reminders_once(db, books, clock):
    principal, invoice, owner = books
    turn_on(db, owner, clock, [RuleInput("on")])
    clock.now = at(DUE)
    kind = reminders_job(db, base_url=BASE_URL, clock=clock)
    schedulers = [Scheduler(db, [kind], clock=clock, holder=name, poll=0.02) for name in ("first", "second")]
    stop = asyncio.Event()
    loops = [asyncio.create_task(scheduler.run(stop)) for scheduler in schedulers]
    try:
        for _ in range(500):
            state = job_state(db, REMINDERS_JOB, str(principal.organization_id))
            if state is not None and state.last_succeeded_at is not None:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*loops)
        for scheduler in schedulers:
            await scheduler.wait_idle()

    assert reminders(db) == [(invoice.number, 0, "due", DUE)]
    state = job_state(db, REMINDERS_JOB, str(principal.organization_id))
    assert state is not None
    assert state.due_at == datetime(2026, 6, 26, 9, 0, tzinfo=UTC)  # tomorrow at nine (UTC's business)
    assert (state.attempts, state.last_error) == (0, "")


# --- what the customer gets -----------------------------------------------------------------------------


def test_the_reminder_carries_a_pay_link_to_its_invoice(db, books, clock):
    principal, invoice, owner = books
    turn_on(db, owner, clock, [RuleInput("on")])
    run_on(db, principal.organization_id, clock, DUE)

    [email] = reminder_emails(db)
    assert "pay-link" not in email.body_text  # sealed in the outbox until it is sent
    [token] = PAY_LINK.findall(links_for_delivery(email.body_text, clock()))
    assert (
        open_pay_link(db, token, ip_address="203.0.113.9", clock=clock).invoice_public_id == invoice.public_id
    )
    assert f"{BASE_URL}/invoices/{invoice.public_id}" in email.body_text
    assert "$100.00" in email.body_text
    assert email.reply_to == "hello@acme.example"


def test_the_sender_attaches_the_invoices_pdf(db, books, clock):
    principal, invoice, owner = books
    turn_on(db, owner, clock, [RuleInput("on")])
    run_on(db, principal.organization_id, clock, DUE)

    class Sender:
        messages: list = []

        def send(self, message):
            self.messages.append(message)
            return {}

        def close(self):
            pass

    sender = Sender()
    deliver_due(db, CONFIG, clock=clock, sender=sender)

    [message] = [m for m in sender.messages if "due today" in m["Subject"]]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(attachment.get_content())).pages)
    assert invoice.number in text
    assert "100.00" in text
    with db.reading() as session:
        kept = session.scalars(select(OutboxAttachment.content)).one()
    assert kept == attachment.get_content()  # kept, so that a retry sends the same


def test_the_reminder_is_in_the_customers_language(db, books, clock):
    principal, invoice, owner = books
    with db.transaction() as session:
        session.execute(
            update(PortalUser).where(PortalUser.id == principal.portal_user_id).values(language="de")
        )
    turn_on(db, owner, clock, [RuleInput("after", "7")])

    run_on(db, principal.organization_id, clock, date(2026, 7, 2))

    [email] = reminder_emails(db)
    assert email.subject == f"Überfällig: Rechnung {invoice.number} war am 25.06.2026 fällig"
    assert email.body_text.startswith("Guten Tag Client Ltd,")
    assert "Jetzt online bezahlen, ohne Anmeldung:" in email.body_text
    with db.reading() as session:
        spec = session.scalars(select(OutboxAttachment.rendered_from)).one()
    assert spec.startswith(f"invoice:{principal.client_id}:{invoice.public_id}:de:")


def test_the_businesss_own_text_is_used_for_its_language_only(db, books, clock):
    principal, invoice, owner = books
    save_reminder_text(
        db,
        owner,
        language="en",
        stage="due",
        subject="{business}: {number} today",
        body="Dear {client}, {amount} is due today ({due_date}). {days} days left.",
        clock=clock,
    )
    turn_on(db, owner, clock, [RuleInput("on")])
    run_on(db, principal.organization_id, clock, DUE)

    [email] = reminder_emails(db)
    assert email.subject == f"Acme Studio: {invoice.number} today"
    assert email.body_text.startswith("Dear Client Ltd, $100.00 is due today (Jun 25, 2026). 0 days left.")
    assert get_reminder_text(db, principal.organization_id, "de", "due").is_default
    assert not get_reminder_text(db, principal.organization_id, "en", "due").is_default


# --- Settings ------------------------------------------------------------------------------------------


def test_the_suggested_rules_are_shown_until_the_owner_saves_and_reminders_are_off(db, books, clock):
    principal, _, owner = books
    setup = get_reminder_setup(db, principal.organization_id)
    assert (setup.enabled, setup.rule_days, setup.saved, setup.next_run) == (
        False,
        (-3, 0, 7, 30),
        False,
        None,
    )

    saved = turn_on(db, owner, clock, [RuleInput("after", "14"), RuleInput("before", "1"), RuleInput("on")])

    assert (saved.enabled, saved.rule_days, saved.saved) == (True, (-1, 0, 14), True)
    assert saved.next_run == clock()  # turned on: at once
    assert [describe_rule(days) for days in saved.rule_days] == [
        "1 day before the due date",
        "On the due date",
        "14 days after the due date",
    ]
    with db.reading() as session:
        row = session.scalars(select(ReminderSettings)).one()
        assert (row.rule_days, row.sent_through) == ("-1,0,14", date(2026, 6, 14))


@pytest.mark.parametrize(
    ("rules", "errors"),
    [
        ([RuleInput("before", "0")], {"rules.0": "Enter a whole number of days from 1 to 60."}),
        ([RuleInput("after", "366")], {"rules.0": "Enter a whole number of days from 1 to 365."}),
        ([RuleInput("after", "2.5")], {"rules.0": "Enter a whole number of days from 1 to 365."}),
        ([RuleInput("after", "")], {"rules.0": "Enter a whole number of days from 1 to 365."}),
        (
            [RuleInput("on"), RuleInput("after", "7"), RuleInput("after", "07")],
            {"rules.2": "This reminder is already in the list."},
        ),
        ([RuleInput("sometime", "3")], {"rules.0": "Choose before, on or after the due date."}),
        ([], {"rules": "Add at least one reminder, or turn reminders off."}),
        (
            [RuleInput("after", str(days)) for days in range(1, 12)],
            {"rules": "Keep to 10 reminders at most."},
        ),
    ],
)
def test_wrong_rules_are_named_and_nothing_is_saved(db, books, clock, rules, errors):
    principal, _, owner = books
    with pytest.raises(InvalidDetails) as refused:
        turn_on(db, owner, clock, rules)
    assert refused.value.errors == errors
    assert get_reminder_setup(db, principal.organization_id).saved is False
    assert job_state(db, REMINDERS_JOB, str(principal.organization_id)) is None


def test_only_the_owner_sets_reminders_but_any_staff_member_may_exclude_a_client(db, books, clock):
    principal, _, _ = books
    staff = make_owner(db, principal.organization_id, role="staff")
    with pytest.raises(OwnerOnly):
        turn_on(db, staff, clock)
    with pytest.raises(OwnerOnly):
        save_reminder_text(db, staff, language="en", stage="due", subject="x", body="y", clock=clock)
    assert (
        set_client_reminders(db, staff, _client_public_id(db, principal.client_id), False, clock=clock)
        is False
    )


@pytest.mark.parametrize(
    ("subject", "body", "errors"),
    [
        ("", "Hello", {"subject": "Enter the subject."}),
        ("Hi", "  ", {"body": "Enter the e-mail's text."}),
        (
            "Invoice {invoice}",
            "Hello",
            {"subject": "{invoice} is not a placeholder; use " + ALLOWED + "."},
        ),
        (
            "Hi",
            "Pay {amount",
            {"body": "Braces may only surround a placeholder: " + ALLOWED + "."},
        ),
        ("Two\nlines", "Hello", {"subject": "Keep the subject on one line."}),
        ("x" * 201, "Hello", {"subject": "Use at most 200 characters."}),
    ],
)
def test_a_wrong_text_is_refused_with_a_message_per_field(db, books, clock, subject, body, errors):
    principal, _, owner = books
    with pytest.raises(InvalidDetails) as refused:
        save_reminder_text(db, owner, language="fr", stage="before", subject=subject, body=body, clock=clock)
    assert refused.value.errors == errors
    assert get_reminder_text(db, principal.organization_id, "fr", "before").is_default


def test_a_text_can_be_put_back_to_the_portals_own(db, books, clock):
    principal, _, owner = books
    save_reminder_text(
        db, owner, language="es", stage="overdue", subject="Vencida {number}", body="Pague", clock=clock
    )
    assert get_reminder_text(db, principal.organization_id, "es", "overdue").subject == "Vencida {number}"

    restored = restore_reminder_text(db, owner, language="es", stage="overdue", clock=clock)

    assert restored.is_default
    assert restored == get_reminder_text(db, principal.organization_id, "es", "overdue")
    assert restored.subject == "Vencida: la factura {number} venció el {due_date}"


@pytest.mark.parametrize("language", ["de", "fr", "es"])
def test_every_default_text_is_translated_and_keeps_its_placeholders(language):
    for stage in STAGES:
        subject, body = REMINDER_TEXTS[stage]
        with using_language(language):
            from services.i18n import _

            translated = (_(subject), _(body))
        assert translated != (subject, body)
        for english, text in zip((subject, body), translated, strict=True):
            assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", english))
            assert set(re.findall(r"\{(\w+)\}", text)) <= set(PLACEHOLDERS)


# --- helpers -------------------------------------------------------------------------------------------


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _client_public_id(db, client_id: int) -> str:
    with db.reading() as session:
        return session.get_one(Client, client_id).public_id
