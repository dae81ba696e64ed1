"""Settings > Documents: number formats, payment terms, default terms and notes, tax rates."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.settings_nav import settings_page


@ui.page("/admin/settings/documents")
async def settings_documents_page(request: Request) -> None:
    async with settings_page(request, "/admin/settings/documents") as content:
        if content is None:
            return
        ui.label("Not built yet.").classes("text-grey-8")
