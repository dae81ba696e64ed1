"""Settings is the owner's alone: one frame for its pages, with a row of tabs between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.authority import owner_only
from components.banner import banner
from components.branding import business_branding
from services import portal
from services.i18n import N_, _
from services.staff_auth import OWNER_ONLY_MESSAGE, OwnerOnly, StaffPrincipal, require_owner

SECTIONS = (
    (N_("Business"), "/admin/settings"),
    (N_("Documents"), "/admin/settings/documents"),
    (N_("Payments"), "/admin/settings/payments"),
    (N_("Reminders"), "/admin/settings/reminders"),
    (N_("E-mail"), "/admin/settings/email"),
    (N_("Staff"), "/admin/settings/staff"),
    (N_("API keys"), "/admin/settings/api-keys"),
    (N_("Backups"), "/admin/settings/backups"),
)
SELECTED = "bg-amber-1 text-grey-10 font-medium border-b-2 border-amber-8"


@asynccontextmanager
async def settings_page(request: Request, path: str) -> AsyncIterator[ui.column | None]:
    """Open a settings page for the owner; anyone else gets 403 and ``None`` (render nothing more).

    ``async with settings_page(request, "/admin/settings/email") as content:``
    ``    if content is None: return``
    """
    staff: StaffPrincipal = request.state.staff
    branding = await business_branding(portal.current().db)
    try:
        require_owner(staff)
    except OwnerOnly:
        ui.context.client.status_code = 403
        with admin_frame(_("Not allowed"), branding=branding, staff=staff, active=""):
            banner("negative", OWNER_ONLY_MESSAGE)
        yield None
        return
    owner_only()  # its actions, and the page itself, end when its person is no longer the owner
    with admin_frame(_("Settings"), branding=branding, staff=staff, active=path) as content:
        tabs = ui.row().classes("w-full gap-1 border-b border-grey-4 -mt-3")
        sections = _("Settings sections")
        with tabs.props(f'role=navigation aria-label="{sections}"'):
            for label, target in SECTIONS:
                selected = target == path
                ui.link(_(label), target).classes(
                    "px-3 py-2 no-underline text-sm rounded-t " + (SELECTED if selected else "text-grey-8")
                ).props('aria-current="page"' if selected else "")
        yield content


def owner_of(request: Request) -> StaffPrincipal:
    """The signed-in staff member of a settings page (``settings_page`` already checked the role)."""
    staff: StaffPrincipal = request.state.staff
    return staff
