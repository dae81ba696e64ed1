"""Settings > E-mail: the SMTP server, a test e-mail, and the outbox with retry."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.settings_nav import settings_page


@ui.page("/admin/settings/email")
async def settings_email_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/email") as content:
        if content is None:
            return
        ui.label("Not built yet.").classes("text-grey-8")
