"""Clients (/admin/clients): the list with search and balances."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.offload import io_bound
from services import portal
from services.branding import get_branding
from services.staff_auth import StaffPrincipal


@ui.page("/admin/clients")
async def clients_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    branding = await io_bound(get_branding, portal.current().db)
    with admin_frame("Clients", branding=branding, staff=staff, active="/admin/clients"):
        ui.label("Not built yet.").classes("text-grey-8")
