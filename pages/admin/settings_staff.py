"""Settings > Staff: the business's staff accounts."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.settings_nav import settings_page


@ui.page("/admin/settings/staff")
async def settings_staff_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/staff") as content:
        if content is None:
            return
        ui.label("Not built yet.").classes("text-grey-8")
