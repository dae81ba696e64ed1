"""Settings > API keys: create and revoke keys for the REST API."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.settings_nav import settings_page


@ui.page("/admin/settings/api-keys")
async def settings_api_keys_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/api-keys") as content:
        if content is None:
            return
        ui.label("Not built yet.").classes("text-grey-8")
