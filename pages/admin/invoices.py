"""Invoices (/admin/invoices): every invoice and retainer invoice of the business."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.offload import io_bound
from services import portal
from services.branding import get_branding
from services.staff_auth import StaffPrincipal


@ui.page("/admin/invoices")
async def invoices_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    branding = await io_bound(get_branding, portal.current().db)
    with admin_frame("Invoices", branding=branding, staff=staff, active="/admin/invoices"):
        ui.label("Not built yet.").classes("text-grey-8")
