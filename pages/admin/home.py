"""The back office's landing page (/admin): the business's name and where to go from here."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.offload import io_bound
from services import portal
from services.branding import get_branding
from services.staff_auth import StaffPrincipal


@ui.page("/admin")
async def admin_home_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    branding = await io_bound(get_branding, portal.current().db)
    with admin_frame("Dashboard", branding=branding, staff=staff, active="/admin"):
        ui.label(f"Welcome, {staff.name}.").classes("text-lg text-grey-9")
        ui.label(f"This is the back office of {branding.name}.").classes("text-grey-8")
