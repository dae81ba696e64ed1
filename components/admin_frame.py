"""The back office's frame: a dark header that says "Back office", the sidebar by role, Logout."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from nicegui import ui

from components.frame import (
    NavEntry,
    business_mark,
    demo_banner,
    main_content,
    menu_button,
    navigation_item,
    navigation_list,
    sidebar_drawer,
    skip_link,
)
from components.headings import page_heading
from components.live import LiveTopics
from components.offload import io_bound
from components.theme import apply_theme
from services import portal
from services.branding import Branding
from services.conversations import unread_count
from services.events import BUSINESS_INBOX_TOPIC
from services.i18n import N_, _, ngettext
from services.staff_accounts import role_label
from services.staff_auth import StaffPrincipal

DASHBOARD = NavEntry(N_("Dashboard"), "dashboard", "/admin")
CLIENTS = NavEntry(N_("Clients"), "groups", "/admin/clients")
QUOTES = NavEntry(N_("Quotes"), "request_quote", "/admin/quotes")
INVOICES = NavEntry(N_("Invoices"), "receipt_long", "/admin/invoices")
RECURRING = NavEntry(N_("Recurring invoices"), "event_repeat", "/admin/recurring")
CREDIT_NOTES = NavEntry(N_("Credit Notes"), "note_alt", "/admin/credit-notes")
PAYMENTS = NavEntry(N_("Payments"), "payments", "/admin/payments")
REFUNDS = NavEntry(N_("Refund Requests"), "currency_exchange", "/admin/refunds")
CONVERSATIONS = NavEntry(N_("Conversations"), "forum", "/admin/conversations")
SETTINGS = NavEntry(N_("Settings"), "settings", "/admin/settings")
ACCOUNT = NavEntry(N_("My account"), "account_circle", "/admin/account")  # two-factor sign-in
WORK = (DASHBOARD, CLIENTS, QUOTES, INVOICES, RECURRING, CREDIT_NOTES, PAYMENTS, REFUNDS, CONVERSATIONS)


def navigation(staff: StaffPrincipal) -> tuple[NavEntry, ...]:
    """The sidebar's entries for this person: Settings only for the owner."""
    return (*WORK, ACCOUNT, SETTINGS) if staff.is_owner else (*WORK, ACCOUNT)


@contextmanager
def admin_frame(title: str, *, branding: Branding, staff: StaffPrincipal, active: str) -> Iterator[ui.column]:
    """Lay out a back-office page; the caller fills the returned column with the page's content."""
    apply_theme()
    ui.page_title(_("{title} · Back office · {name}").format(title=title, name=branding.name))
    with sidebar_drawer("bg-grey-2") as drawer:
        unread = _sidebar(staff, active)
    with ui.header(elevated=False).classes("column gap-0 bg-grey-10 text-white p-0"):
        skip = skip_link()
        with ui.row().classes("w-full items-center gap-3 px-3 py-2 no-wrap"):
            menu_button(drawer)
            business_mark(branding)
            ui.badge(_("Back office")).props("color=amber-8 text-color=black").classes("text-xs")
            ui.space()
            ui.label(_("{name} · {title}").format(name=staff.name, title=role_label(staff.role))).classes(
                "text-sm opacity-90 max-sm:hidden"
            )
        if branding.is_demo:
            demo_banner()
    with main_content(skip) as content:
        page_heading(title)
        yield content
    _follow_unread(unread, staff)


def _follow_unread(badge: ui.badge, staff: StaffPrincipal) -> None:
    """Conversations' unread count, read once the browser is connected and again when the inbox changes.

    The first read waits for the connection, so that the page itself is answered without waiting for it.
    """
    current = portal.current()
    client = ui.context.client
    watch = LiveTopics(current.events, BUSINESS_INBOX_TOPIC)  # before the first read: no change is missed

    async def show() -> None:
        count = await io_bound(unread_count, current.db, staff.organization_id)
        badge.set_text(str(count))
        unread = ngettext("{count} unread message", "{count} unread messages", count).format(count=count)
        badge.props(f'aria-label="{unread}"')
        badge.set_visibility(count > 0)

    started = False

    async def start() -> None:
        nonlocal started
        if started:  # a reconnection: it follows already
            return
        started = True
        watch.catch_up()  # the read just below takes in whatever changed until now
        watch.follow(show)
        await show()

    client.on_connect(start)


def _sidebar(staff: StaffPrincipal, active: str) -> ui.badge:
    """The navigation list and Logout; returns the (hidden) unread badge beside Conversations."""
    with ui.column().classes("w-full h-full justify-between py-3 gap-0"):
        with navigation_list():
            for entry in navigation(staff):
                selected = entry.path == active or (
                    entry.path != "/admin" and active.startswith(entry.path + "/")
                )
                with navigation_item(entry.path, selected=selected).classes(
                    "rounded-e-full me-3" + (" bg-amber-1 text-grey-10 font-medium" if selected else "")
                ):
                    with ui.item_section().props("avatar"):
                        ui.icon(entry.icon)
                    ui.item_section(_(entry.label))
                    if entry is CONVERSATIONS:
                        with ui.item_section().props("side"):
                            unread = ui.badge("0").props("color=red-7 rounded").mark("sidebar-unread")
                            unread.set_visibility(False)
        # A real form post: sign-out needs the admin cookie, which only a request carries.
        with ui.element("form").props("method=post action=/admin/auth/logout").classes("w-full px-3"):
            ui.button(_("Logout"), icon="logout").props("type=submit flat no-caps align=left").classes(
                "w-full text-grey-8"
            )
    return unread
