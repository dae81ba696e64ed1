"""Refund Requests (/admin/refunds): approve or decline what customers asked back.

Open requests come first; approving pays online money back through the gateway and records the rest
as paid out by hand. A refund the gateway refused or did not answer stays visible here.
"""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.admin_frame import admin_frame
from components.banner import banner
from components.branding import business_branding
from components.dialog_host import DialogHost
from components.offload import gateway_bound, io_bound
from components.payment_dialogs import DeclineDialog
from services import portal
from services.dates import format_day
from services.errors import DomainError, human_message
from services.events import client_documents_topic
from services.i18n import N_, _
from services.money import format_money
from services.refund_approval import (
    RefundLine,
    RefundRequestView,
    approve_refund_request,
    list_refund_requests,
    retry_gateway_refund,
)
from services.staff_auth import StaffPrincipal

SOURCE_LABELS = {"credit": N_("Credits"), "retainer": N_("Retainer payments")}
STATUS_LABELS = {
    "open": N_("Open"),
    "approved": N_("Approved"),
    "declined": N_("Declined"),
    "cancelled": N_("Cancelled"),
}
STATUS_COLORS = {
    "open": "deep-orange-10",
    "approved": "positive",
    "declined": "grey-7",
    "cancelled": "grey-8",
}
LINE_STATUS = {
    "succeeded": N_("Paid back"),
    "pending": N_("Waiting for the payment service"),
    "failed": N_("Failed"),
}
METHOD_LABELS = {"manual": N_("By hand"), "gateway": N_("To the card or account")}


@ui.page("/admin/refunds")
async def refunds_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    branding = await business_branding(current.db)
    locale = branding.locale

    with admin_frame(_("Refund Requests"), branding=branding, staff=staff, active="/admin/refunds"):
        host = DialogHost()
        notice = ui.column().classes("w-full gap-2")
        content = ui.column().classes("w-full gap-6")

    def money(view: RefundRequestView) -> str:
        return format_money(view.amount, locale)

    async def reload() -> None:
        requests = await io_bound(list_refund_requests, current.db, staff.organization_id)
        content.clear()
        with content:
            opened = [r for r in requests if r.status == "open"]
            decided = [r for r in requests if r.status != "open"]
            ui.label(_("Open requests")).classes("text-lg font-medium text-grey-9")
            if not opened:
                ui.label(_("No refund requests waiting.")).classes("text-grey-7").mark("no-open-requests")
            for view in opened:
                request_card(view)
            if decided:
                ui.label(_("Decided")).classes("text-lg font-medium text-grey-9")
                for view in decided:
                    request_card(view)

    def request_card(view: RefundRequestView) -> None:
        with ui.card().classes("w-full gap-2 p-4").props("flat bordered").mark(f"request-{view.public_id}"):
            with ui.row().classes("w-full items-start gap-3 no-wrap max-sm:flex-wrap"):
                with ui.column().classes("gap-0 grow"):
                    ui.label(view.client_name).classes("font-medium")
                    ui.label(
                        _("{get} · asked {format_day}").format(
                            get=_(SOURCE_LABELS.get(view.source, view.source)),
                            format_day=format_day(view.requested_at, locale),
                        )
                    ).classes("text-sm text-grey-7")
                ui.badge(_(STATUS_LABELS.get(view.status, view.status))).props(
                    f"color={STATUS_COLORS.get(view.status, 'grey-7')}"
                ).classes("text-sm px-2")
                ui.label(money(view)).classes("text-lg font-semibold text-end min-w-28")
            if view.reason:
                ui.label(_("Reason: {reason}").format(reason=view.reason)).classes(
                    "text-sm text-grey-9 whitespace-pre-line"
                )
            if view.status == "open":
                with ui.row().classes("w-full justify-end gap-2"):
                    ui.button(
                        _("Decline"),
                        on_click=lambda v=view: host.show(
                            lambda: DeclineDialog(
                                current,
                                staff,
                                v.public_id,
                                _("{client} asked for {amount}").format(
                                    client=v.client_name, amount=money(v)
                                ),
                                reload,
                            )
                        ),
                    ).props("outline no-caps color=negative").mark("decline")
                    ui.button(_("Approve"), on_click=lambda v=view: approve(v)).props(
                        "unelevated no-caps"
                    ).mark("approve")
                return
            if view.decided_at:
                ui.label(
                    _("Decided {format_day}").format(format_day=format_day(view.decided_at, locale))
                ).classes("text-sm text-grey-7")
            if view.decision_note:
                ui.label(_("Note: {decision_note}").format(decision_note=view.decision_note)).classes(
                    "text-sm text-grey-9 whitespace-pre-line"
                )
            for line in view.refunds:
                refund_line(line, view.client_public_id)
            if view.failed.minor:
                banner(
                    "negative",
                    _(
                        "The payment service refused {amount}: it was not paid back and is in the client's "
                        "available balance again. Pay it back by hand with “Refund credit” on the Payments "
                        "page, or let the client use it."
                    ).format(amount=format_money(view.failed, locale)),
                )
            if view.pending.minor:
                banner(
                    "warning",
                    _(
                        "The payment service has not confirmed {amount} yet. Asking again is safe: it is "
                        "never paid back twice."
                    ).format(amount=format_money(view.pending, locale)),
                )

    def refund_line(line: RefundLine, client: str) -> None:
        with ui.row().classes("w-full items-center gap-2 text-sm no-wrap").mark(f"refund-line-{line.status}"):
            ui.label(
                _("{capitalize} · {drawn_from}").format(
                    capitalize=_(METHOD_LABELS.get(line.method, line.method)),
                    drawn_from=line.drawn_from,
                )
            ).classes("grow text-grey-8")
            ui.label(_(LINE_STATUS.get(line.status, line.status))).classes(
                "text-negative" if line.status == "failed" else "text-grey-8"
            )
            ui.label(format_money(line.amount, locale)).classes("text-end min-w-24")
            if line.status == "pending":
                ui.button(_("Ask again"), on_click=lambda p=line.public_id: retry(p, client)).props(
                    "flat dense no-caps"
                ).mark("retry-refund")
        if line.status == "failed" and line.failure_reason:
            ui.label(
                _("The payment service said: {failure_reason}").format(failure_reason=line.failure_reason)
            ).classes("text-xs text-negative").mark("refund-failure-reason")

    async def approve(view: RefundRequestView) -> None:
        notice.clear()
        try:
            outcome = await gateway_bound(
                approve_refund_request,
                current.db,
                current.gateway,
                staff.organization_id,
                view.public_id,
                staff_user_id=staff.staff_user_id,
                clock=current.clock,
            )
        except DomainError as error:
            with notice:
                banner("negative", human_message(error, locale=locale))
            await reload()
            return
        current.events.publish(client_documents_topic(outcome.client_public_id))
        parts = []
        if outcome.through_gateway.minor:
            parts.append(
                _("{amount} paid back through the payment service").format(
                    amount=format_money(outcome.through_gateway, locale)
                )
            )
        if outcome.by_hand.minor:
            parts.append(
                _("{amount} to pay back by hand").format(amount=format_money(outcome.by_hand, locale))
            )
        with notice:
            if outcome.failed.minor or outcome.pending.minor:
                banner(
                    "warning",
                    _("Refund for {client} approved, but not all of it went through: see below.").format(
                        client=view.client_name
                    ),
                )
            else:
                banner(
                    "positive",
                    _("Refund for {client} approved: {parts}.").format(
                        client=view.client_name, parts="; ".join(parts)
                    ),
                )
        await reload()

    async def retry(refund_public_id: str, client_public_id: str) -> None:
        notice.clear()
        try:
            status = await gateway_bound(
                retry_gateway_refund,
                current.db,
                current.gateway,
                staff.organization_id,
                refund_public_id,
                clock=current.clock,
            )
        except DomainError as error:
            with notice:
                banner("negative", human_message(error, locale=locale))
            return
        if status != "pending":  # the customer's open pages show the settled refund
            current.events.publish(client_documents_topic(client_public_id))
        with notice:
            banner(
                {"succeeded": "positive", "failed": "negative"}.get(status, "warning"),
                {
                    "succeeded": _("The payment service paid it back."),
                    "failed": _(
                        "The payment service refused it; the money is in the client's balance again."
                    ),
                }.get(status, _("Still no answer from the payment service; try again later.")),
            )
        await reload()

    await reload()
