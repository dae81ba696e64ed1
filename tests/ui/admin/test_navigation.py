"""The back office's sidebar by role, and Settings kept for the owner on every one of its pages."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from components.settings_nav import SECTIONS

WORK = ("Clients", "Invoices", "Credit Notes", "Payments", "Refund Requests", "Conversations")


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
