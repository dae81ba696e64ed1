"""My account in the back office: who is signed in, and their two-factor sign-in."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from api.auth import client_address
from components.admin_frame import admin_frame
from components.branding import business_branding
from components.language_choice import PreferencesCard
from components.offload import io_bound
from components.two_factor import TwoFactorPanel
from services import portal
from services.i18n import _
from services.language_settings import get_staff_preferences, set_staff_preferences
from services.staff_accounts import role_label
from services.staff_auth import StaffPrincipal

PATH = "/admin/account"


@ui.page(PATH)
async def admin_account_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    branding = await business_branding(current.db)
    address = client_address(request)
    preferences = await io_bound(get_staff_preferences, current.db, staff)
    with admin_frame(_("My account"), branding=branding, staff=staff, active=PATH):
        with ui.card().classes("w-full max-w-2xl p-4 sm:p-6 gap-1").props("flat bordered"):
            ui.label(staff.name).classes("text-lg font-semibold")
            ui.label(staff.email).classes("text-sm text-grey-8 break-all")
            ui.label(role_label(staff.role)).classes("text-sm text-grey-7")
        PreferencesCard(
            preferences,
            lambda change: io_bound(set_staff_preferences, current.db, staff, change, clock=current.clock),
            browser_default=_("As my browser is set"),
        ).card.classes("max-w-2xl")
        two_factor = TwoFactorPanel(staff, ip_address=address)
    await two_factor.reload()
