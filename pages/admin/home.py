"""The back office's dashboard (/admin): what clients owe, what needs attention, the latest payments."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.branding import business_branding
from components.cards import figure_card
from components.headings import section_heading
from components.offload import io_bound
from services import portal
from services.business_overview import BusinessOverview, business_overview
from services.dates import format_day
from services.i18n import N_, _, ngettext
from services.money import format_money
from services.staff_auth import StaffPrincipal

METHOD_NAMES = {
    "card": N_("Card"),
    "bank_account": N_("Bank debit"),
    "cash": N_("Cash"),
    "cheque": N_("Cheque"),
    "bank_transfer": N_("Bank transfer"),
    "other": N_("Other"),
}


@ui.page("/admin")
async def admin_home_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    branding = await business_branding(current.db)
    overview = await io_bound(
        business_overview, current.db, staff.organization_id, today=current.clock().date()
    )
    with admin_frame(_("Dashboard"), branding=branding, staff=staff, active="/admin"):
        ui.label(_("Welcome, {name}.").format(name=staff.name)).classes("text-lg text-grey-9")
        _actions()
        _figures(overview, branding.locale)
        _attention(overview)
        _recent_payments(overview, branding.locale)


def _actions() -> None:
    with ui.row().classes("gap-2"):
        for label, icon, target in (
            (_("New invoice"), "add", "/admin/invoices/new"),
            (_("New client"), "person_add", "/admin/clients/new"),
            (_("Record payment"), "payments", "/admin/payments?record=1"),
        ):
            ui.button(label, icon=icon, on_click=lambda target=target: ui.navigate.to(target)).props(
                "unelevated no-caps"
                if target.endswith("/new") and "invoices" in target
                else "outline no-caps"
            )


def _figures(overview: BusinessOverview, locale: str) -> None:
    with ui.grid().classes("w-full gap-4 grid-cols-1 md:grid-cols-2"):
        if not overview.receivables:
            figure_card(
                _("Outstanding"),
                _("Nothing owed"),
                icon="account_balance_wallet",
                note=_("No open invoices."),
            )
        for figures in overview.receivables:
            figure_card(
                _("Outstanding ({currency})").format(currency=figures.outstanding.currency),
                format_money(figures.outstanding, locale),
                icon="account_balance_wallet",
                note=ngettext("{count} open invoice", "{count} open invoices", figures.open_count).format(
                    count=figures.open_count
                ),
                test_id=f"outstanding-{figures.outstanding.currency}",
            )
            figure_card(
                _("Overdue ({currency})").format(currency=figures.overdue.currency),
                format_money(figures.overdue, locale),
                icon="schedule",
                note=ngettext(
                    "{count} past the due date", "{count} past the due date", figures.overdue_count
                ).format(count=figures.overdue_count),
                test_id=f"overdue-{figures.overdue.currency}",
            )


def _attention(overview: BusinessOverview) -> None:
    with ui.card().classes("w-full gap-2 p-5").props("flat bordered"):
        section_heading(_("Needs attention"))
        for count, text, target in (
            (
                overview.unread,
                ngettext("{count} unread conversation", "{count} unread conversations", overview.unread),
                "/admin/conversations",
            ),
            (
                overview.open_refund_requests,
                ngettext(
                    "{count} open refund request",
                    "{count} open refund requests",
                    overview.open_refund_requests,
                ),
                "/admin/refunds",
            ),
            (
                overview.drafts,
                ngettext("{count} draft invoice", "{count} draft invoices", overview.drafts),
                "/admin/invoices?status=draft",
            ),
        ):
            with ui.row().classes("items-center gap-2"):
                ui.icon("circle").classes("text-xs " + ("text-amber-8" if count else "text-grey-4"))
                ui.link(text.format(count=count), target).classes(
                    "text-grey-9" + (" font-medium" if count else "")
                )


def _recent_payments(overview: BusinessOverview, locale: str) -> None:
    with ui.card().classes("w-full gap-2 p-5").props("flat bordered"):
        section_heading(_("Latest payments"))
        if not overview.recent_payments:
            ui.label(_("No payments yet.")).classes("text-grey-7")
            return
        rows = ui.grid(columns="auto minmax(0, 1fr) auto")
        with rows.classes("w-full gap-x-4 gap-y-3 text-sm items-center"):
            for payment in overview.recent_payments:
                ui.label(format_day(payment.received_at, locale) if payment.received_at else "")
                with ui.column().classes("gap-0 min-w-0"):
                    ui.label(payment.client_name).classes("truncate w-full")
                    ui.label(_(METHOD_NAMES.get(payment.method, payment.method.title()))).classes(
                        "text-xs text-grey-7"
                    )
                amount = format_money(payment.amount, locale)
                if payment.status != "succeeded":
                    amount = _("{amount} (processing)").format(amount=amount)
                ui.label(amount).classes("text-end font-medium")
