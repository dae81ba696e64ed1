"""Recurring invoices in the back office: a profile made in the editor (the invoice editor's lines) is
listed with its client, amount, frequency, next invoice date and status; it is paused, resumed and ended
from the list; a wrong one is refused field by field and nothing is saved; the client's page says
whether the customer turned auto-pay on."""

from __future__ import annotations

from datetime import timedelta

from nicegui.testing import User
from sqlalchemy import func, select

from models import RecurringProfile, StaffUser
from services import portal
from services.dates import format_day
from services.recurring_invoices import end_profile, make_due_invoices
from services.staff_auth import StaffPrincipal
from tests.ui.admin.conftest import set_value, until
from tests.ui.admin.test_invoice_editor import demo_client, type_line

WAIT = 100


def profiles() -> list[tuple[object, ...]]:
    with portal.current().db.reading() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    RecurringProfile.unit,
                    RecurringProfile.every,
                    RecurringProfile.status,
                    RecurringProfile.total_minor,
                )
            )
        ]


def profile_count() -> int:
    with portal.current().db.reading() as session:
        return session.scalar(select(func.count()).select_from(RecurringProfile)) or 0


async def make_profile(owner: User) -> str:
    client_id, _currency = demo_client()
    start = portal.current().clock().date() + timedelta(days=3)
    await owner.open(f"/admin/recurring/new?client={client_id}")
    await owner.should_see("Currency: USD", retries=WAIT)
    set_value(owner, "every", "2")
    set_value(owner, "unit", "week")
    set_value(owner, "start-date", start.isoformat())
    type_line(owner, 0, description="Window cleaning", quantity="1", rate="85")
    owner.find(marker="save-profile").click()
    await owner.should_see("The profile for Bluebird Cafe is saved.", retries=WAIT)
    return format_day(start)


async def test_a_profile_is_made_and_listed_with_its_next_invoice(owner: User) -> None:
    first = await make_profile(owner)

    assert profiles() == [("week", 2, "active", 8500)]
    await owner.should_see(f"Its next invoice is made on {first}.")
    table = owner.find(marker="profiles-table").elements.pop()
    [row] = table.rows  # type: ignore[attr-defined]
    assert (row["client"], row["amount"], row["frequency"], row["next_run"], row["status"]) == (
        "Bluebird Cafe",
        "$85.00",
        "Every 2 weeks",
        first,
        "Active",
    )


async def test_a_profile_is_paused_resumed_and_ended_from_the_list(owner: User) -> None:
    await make_profile(owner)
    table = owner.find(marker="profiles-table").elements.pop()

    def act(event: str) -> None:
        [row] = table.rows  # type: ignore[attr-defined]
        owner.find(marker="profiles-table").trigger(event, row)  # as the row's button does

    act("pause")
    await owner.should_see("is paused: it makes no invoices until resumed.", retries=WAIT)
    await until(lambda: profiles()[0][2] == "paused")
    act("resume")
    await until(lambda: profiles()[0][2] == "active")
    act("end")
    await owner.should_see("End the profile for Bluebird Cafe?", retries=WAIT)
    assert profiles()[0][2] == "active"  # not before it is confirmed
    owner.find(marker="end-confirm").click()
    await until(lambda: profiles()[0][2] == "ended")
    await owner.should_see("has ended; the invoices it made stay.", retries=WAIT)


async def test_a_wrong_profile_is_refused_and_nothing_is_saved(owner: User) -> None:
    client_id, _currency = demo_client()
    await owner.open(f"/admin/recurring/new?client={client_id}")
    await owner.should_see("Currency: USD", retries=WAIT)
    set_value(owner, "every", "0")
    set_value(owner, "start-date", (portal.current().clock().date() - timedelta(days=1)).isoformat())
    type_line(owner, 0, description="Window cleaning", quantity="1", rate="85")
    owner.find(marker="save-profile").click()
    await owner.should_see("Enter a whole number from 1 to 999.", retries=WAIT)
    await owner.should_see("The start date cannot be in the past.")
    set_value(owner, "ending", "after_count")
    set_value(owner, "count", "")
    owner.find(marker="save-profile").click()
    await owner.should_see("Enter a whole number from 1 to 1000.", retries=WAIT)
    assert profile_count() == 0


async def test_the_client_page_says_auto_pay_is_off(owner: User) -> None:
    client_id, _currency = demo_client()
    await owner.open(f"/admin/clients/{client_id}")
    await owner.should_see("Off: the customer pays each invoice themselves.", retries=WAIT)


async def test_a_profiles_page_lists_the_invoices_it_made_and_an_ended_one_cannot_be_changed(
    owner: User,
) -> None:
    await make_profile(owner)
    with portal.current().db.reading() as session:
        public_id = session.scalars(select(RecurringProfile.public_id)).one()
        organization_id = session.scalars(select(RecurringProfile.organization_id)).one()
    clock = portal.current().clock
    later = clock() + timedelta(days=3)
    made, _next = make_due_invoices(
        portal.current().db, organization_id, base_url="http://test", clock=lambda: later
    )
    [first] = made
    with portal.current().db.reading() as session:
        owner_id = session.scalars(select(StaffUser.id).where(StaffUser.role == "owner")).first()
    assert owner_id is not None
    staff = StaffPrincipal(owner_id, organization_id, "Olivia", "owner@business.example", "owner", 0)
    end_profile(portal.current().db, staff, public_id)

    await owner.open(f"/admin/recurring/{public_id}")
    await owner.should_see(first.invoice_number, retries=WAIT)
    await owner.should_see("This profile has ended: it makes no more invoices and can no longer be changed.")
    await owner.should_see("1 invoice made so far")
