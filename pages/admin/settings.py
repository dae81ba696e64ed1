"""Settings (/admin/settings): the owner's alone. A stub until the settings themselves are built."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.banner import banner
from components.offload import io_bound
from services import portal
from services.branding import get_branding
from services.staff_auth import OWNER_ONLY_MESSAGE, OwnerOnly, StaffPrincipal, require_owner


@ui.page("/admin/settings")
async def admin_settings_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    branding = await io_bound(get_branding, portal.current().db)
    try:
        require_owner(staff)
    except OwnerOnly:
        ui.context.client.status_code = 403
        with admin_frame("Not allowed", branding=branding, staff=staff, active=""):
            banner("negative", OWNER_ONLY_MESSAGE)
        return
    with admin_frame("Settings", branding=branding, staff=staff, active="/admin/settings"):
        ui.label("Business profile, staff accounts and API keys will be managed here.").classes("text-grey-8")
