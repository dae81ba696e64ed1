"""Conversations (/admin/conversations): comments, messages and reviews."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.offload import io_bound
from services import portal
from services.branding import get_branding
from services.staff_auth import StaffPrincipal


@ui.page("/admin/conversations")
async def conversations_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    branding = await io_bound(get_branding, portal.current().db)
    with admin_frame("Conversations", branding=branding, staff=staff, active="/admin/conversations"):
        ui.label("Not built yet.").classes("text-grey-8")
