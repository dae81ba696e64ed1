"""The back office's sidebar by role, and Settings kept for the owner on every one of its pages."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User

from components.settings_nav import SECTIONS
from services import portal
from services.contact_business import send_message
from tests.ui.admin.conftest import until

WORK = (
    "Clients",
    "Invoices",
    "Recurring invoices",
    "Credit Notes",
    "Payments",
    "Refund Requests",
    "Conversations",
)


async def test_the_owner_sees_every_section_and_settings(owner: User) -> None:
    await owner.open("/admin")
    for label in (*WORK, "Settings"):
        await owner.should_see(label)


async def test_staff_see_the_work_but_not_settings(staff: User) -> None:
    await staff.open("/admin")
    for label in WORK:
        await staff.should_see(label)
    await staff.should_not_see("Settings")


@pytest.mark.parametrize("path", [target for _, target in SECTIONS])
async def test_staff_cannot_open_any_settings_page(staff: User, path: str) -> None:
    response = await staff.http_client.get(path)
    assert response.status_code == 403
    assert "Only the owner of the business can open this page." in response.text
    assert "API keys" not in response.text


@pytest.mark.parametrize("path", [target for _, target in SECTIONS])
async def test_the_owner_opens_every_settings_page(owner: User, path: str) -> None:
    await owner.open(path)
    for label, _ in SECTIONS:
        await owner.should_see(label)


def sidebar_unread(user: User) -> str | None:
    """The number on the sidebar's Conversations entry, or None while the badge is hidden."""
    try:
        badges = user.find(marker="sidebar-unread").elements  # only visible elements are found
    except AssertionError:
        return None
    badge = next(iter(badges))
    assert isinstance(badge, ui.badge)
    return badge.text


async def test_the_sidebar_counts_unread_conversations_and_follows_new_ones(staff: User) -> None:
    from tests.ui.admin.test_conversations import comment, demo_customer

    customer, invoice, _ = demo_customer()
    await staff.open("/admin/clients")
    await until(lambda: sidebar_unread(staff) is None)  # the demo's conversations are all read

    comment(customer, invoice, "Could you add our PO number?")
    await until(lambda: sidebar_unread(staff) == "1")

    comment(customer, invoice, "It is PO-7781.")  # the same thread: still one conversation to read
    current = portal.current()
    send_message(current.db, customer, "Opening hours", "Are you open on Monday?", events=current.events)
    await until(lambda: sidebar_unread(staff) == "2")

    await staff.open("/admin/conversations")
    staff.find(marker=f"open-{invoice}").click()
    await until(lambda: sidebar_unread(staff) == "1")
