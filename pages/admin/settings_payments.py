"""Settings > Payments: which payment methods customers may use and the gateway."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.settings_nav import settings_page


@ui.page("/admin/settings/payments")
async def settings_payments_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/payments") as content:
        if content is None:
            return
        ui.label("Not built yet.").classes("text-grey-8")
