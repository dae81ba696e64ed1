"""Settings > Business (/admin/settings): the business's profile, logo and contact details."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.settings_nav import settings_page


@ui.page("/admin/settings")
async def admin_settings_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings") as content:
        if content is None:
            return
        ui.label("Business profile").classes("text-lg font-medium")
