"""Payments (/admin/payments): every payment, and recording an offline one."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.offload import io_bound
from services import portal
from services.branding import get_branding
from services.staff_auth import StaffPrincipal


@ui.page("/admin/payments")
async def payments_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    branding = await io_bound(get_branding, portal.current().db)
    with admin_frame("Payments", branding=branding, staff=staff, active="/admin/payments"):
        ui.label("Not built yet.").classes("text-grey-8")
