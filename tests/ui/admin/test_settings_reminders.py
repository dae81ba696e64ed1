"""Settings > Reminders: the owner turns payment reminders on with the days they go out (a message per wrong
day, nothing saved then), adds and removes reminders, and writes a reminder's text per language or goes
back to the portal's own (a staff member may not: tests/ui/admin/test_navigation.py). On a client's page
any staff member excludes the client from reminders and sees those sent."""

from __future__ import annotations

from nicegui.elements.mixins.value_element import ValueElement
from nicegui.testing import User
from sqlalchemy import select

from models import AuditEvent, Client, Invoice, Organization, StaffUser
from services import portal
from services.reminders import (
    REMINDERS_JOB,
    RuleInput,
    get_reminder_setup,
    get_reminder_text,
    save_reminder_setup,
    send_due_reminders,
)
from services.scheduler import job_state
from services.staff_auth import StaffPrincipal
from tests.ui.admin.conftest import set_value, until

PAGE = "/admin/settings/reminders"


def organization_id() -> int:
    with portal.current().db.reading() as session:
        found = session.scalars(select(Organization.id).order_by(Organization.id)).first()
        assert found is not None
        return found


def setup():
    return get_reminder_setup(portal.current().db, organization_id())


def value_of(user: User, marker: str) -> object:
    [field] = user.find(marker=marker).elements
    assert isinstance(field, ValueElement)
    return field.value


def field_error(user: User, marker: str) -> str:
    [field] = user.find(marker=marker).elements
    return str(field.props.get("error-message") or "") if field.props.get("error") else ""


def owner_principal() -> StaffPrincipal:
    with portal.current().db.reading() as session:
        owner = session.scalars(select(StaffUser).where(StaffUser.role == "owner")).first()
        assert owner is not None
        return StaffPrincipal(owner.id, owner.organization_id, owner.name, owner.email, "owner", 0)


async def test_the_owner_turns_reminders_on_with_the_days_they_go_out(owner: User) -> None:
    await owner.open(PAGE)
    await owner.should_see("Payment reminders")
    await owner.should_see("They go out every morning from 9:00 (UTC, the business's time zone).")
    for index in range(4):  # the suggested ones: 3 days before, on the day, 7 and 30 days after
        await owner.should_see(marker=f"reminder-rule-{index}")
    await owner.should_not_see(marker="reminder-rule-4")

    set_value(owner, "reminders-enabled", True)
    set_value(owner, "reminder-days-3", "14")
    owner.find(marker="reminders-save").click()

    await owner.should_see("The reminders are saved.")
    await owner.should_see("Next run:")
    saved = setup()
    assert (saved.enabled, saved.rule_days, saved.saved) == (True, (-3, 0, 7, 14), True)
    state = job_state(portal.current().db, REMINDERS_JOB, str(organization_id()))
    assert state is not None
    assert state.due_at is not None


async def test_a_wrong_day_is_marked_and_nothing_is_saved(owner: User) -> None:
    await owner.open(PAGE)
    await owner.should_see(marker="reminder-rule-0")
    set_value(owner, "reminders-enabled", True)
    set_value(owner, "reminder-days-0", "0")
    set_value(owner, "reminder-days-2", "7")
    set_value(owner, "reminder-days-3", "7")
    owner.find(marker="reminders-save").click()

    await owner.should_see("Nothing was saved: 2 fields need correcting.")
    await until(lambda: field_error(owner, "reminder-days-0") != "")
    assert field_error(owner, "reminder-days-0") == "Enter a whole number of days from 1 to 60."
    assert field_error(owner, "reminder-days-3") == "This reminder is already in the list."
    assert field_error(owner, "reminder-days-2") == ""
    assert setup().saved is False


async def test_reminders_are_added_removed_and_turned_off(owner: User) -> None:
    await owner.open(PAGE)
    await owner.should_see(marker="reminder-rule-3")

    owner.find(marker="reminder-add").click()
    await owner.should_see(marker="reminder-rule-4")
    owner.find(marker="reminder-remove-0").click()
    await owner.should_not_see(marker="reminder-rule-4")
    set_value(owner, "reminders-enabled", True)
    owner.find(marker="reminders-save").click()

    await owner.should_see("The reminders are saved.")
    assert setup().rule_days == (0, 7, 14, 30)  # 3 days before removed, 14 days after added
    set_value(owner, "reminders-enabled", False)
    owner.find(marker="reminders-save").click()
    await owner.should_see("Reminders are off.")
    assert (setup().enabled, setup().rule_days) == (False, (0, 7, 14, 30))


async def test_the_owner_writes_a_reminders_text_in_a_language_and_can_go_back(owner: User) -> None:
    await owner.open(PAGE)
    await owner.should_see("Reminder texts")
    await owner.should_see("The portal's own text.")
    set_value(owner, "reminder-text-language", "de")
    set_value(owner, "reminder-text-stage", "overdue")
    overdue = "Überfällig: Rechnung {number} war am {due_date} fällig"
    await until(lambda: value_of(owner, "reminder-text-subject") == overdue)

    set_value(owner, "reminder-text-subject", "Zahlung offen: {number}")
    set_value(owner, "reminder-text-body", "Guten Tag {client}, bitte zahlen Sie {amount}.")
    owner.find(marker="reminder-text-save").click()

    await owner.should_see("The text is saved.")
    await owner.should_see("Your own text.")
    db = portal.current().db
    saved = get_reminder_text(db, organization_id(), "de", "overdue")
    assert (saved.subject, saved.body, saved.is_default) == (
        "Zahlung offen: {number}",
        "Guten Tag {client}, bitte zahlen Sie {amount}.",
        False,
    )
    assert get_reminder_text(db, organization_id(), "en", "overdue").is_default

    owner.find(marker="reminder-text-restore").click()
    await owner.should_see("The portal's own text is used again.")
    await until(lambda: value_of(owner, "reminder-text-subject") == overdue)
    assert get_reminder_text(db, organization_id(), "de", "overdue").is_default


async def test_a_text_with_an_unknown_placeholder_is_refused(owner: User) -> None:
    await owner.open(PAGE)
    await owner.should_see("Reminder texts")
    set_value(owner, "reminder-text-subject", "Invoice {invoice_number}")
    owner.find(marker="reminder-text-save").click()

    await owner.should_see("Nothing was saved: 1 field needs correcting.")
    await until(lambda: field_error(owner, "reminder-text-subject") != "")
    assert field_error(owner, "reminder-text-subject").startswith(
        "{invoice_number} is not a placeholder; use {client}"
    )
    assert get_reminder_text(portal.current().db, organization_id(), "en", "before").is_default


# --- a client's page ---------------------------------------------------------------------------------------


def bluebird() -> Client:
    with portal.current().db.reading() as session:
        return session.scalars(select(Client).where(Client.display_name == "Bluebird Cafe")).one()


async def test_a_staff_member_excludes_a_client_from_reminders_and_includes_it_again(staff: User) -> None:
    client = bluebird()
    await staff.open(f"/admin/clients/{client.public_id}")
    await staff.should_see("Send payment reminders to this client")
    await staff.should_see("Reminders are off for all clients until the owner turns them on in Settings.")
    await staff.should_see("No reminders sent yet.")
    assert value_of(staff, "client-reminders-switch") is True

    set_value(staff, "client-reminders-switch", False)

    await staff.should_see("This client gets no payment reminders.")
    assert bluebird().send_reminders is False
    set_value(staff, "client-reminders-switch", True)
    await staff.should_see("This client gets payment reminders again.")
    assert bluebird().send_reminders is True
    with portal.current().db.reading() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.client_id == client.id).order_by(AuditEvent.id)
        ).all()
    assert actions[-2:] == ["client.reminders_updated", "client.reminders_updated"]


async def test_the_clients_page_lists_the_reminders_sent(owner: User) -> None:
    current = portal.current()
    client = bluebird()
    with current.db.reading() as session:
        invoice = session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client.id, Invoice.status.in_(("sent", "viewed", "partially_paid")))
            .order_by(Invoice.due_date)
        ).first()
        assert invoice is not None
        number, due_date = invoice.number, invoice.due_date
    days = (current.clock().date() - due_date).days  # a rule for today, whatever the demo's dates are
    rule = RuleInput("on") if days == 0 else RuleInput("after" if days > 0 else "before", str(abs(days)))
    save_reminder_setup(current.db, owner_principal(), enabled=True, rules=[rule], clock=current.clock)
    send_due_reminders(
        current.db,
        organization_id(),
        base_url="http://portal.example",
        clock=current.clock,
    )

    await owner.open(f"/admin/clients/{client.public_id}")

    await owner.should_see("Sent lately")
    await owner.should_see(number)
    await owner.should_not_see("Reminders are off for all clients")
