"""Refund Requests (/admin/refunds): approve or decline what customers asked back."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.offload import io_bound
from services import portal
from services.branding import get_branding
from services.staff_auth import StaffPrincipal


@ui.page("/admin/refunds")
async def refunds_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    branding = await io_bound(get_branding, portal.current().db)
    with admin_frame("Refund Requests", branding=branding, staff=staff, active="/admin/refunds"):
        ui.label("Not built yet.").classes("text-grey-8")
