"""One invoice: addresses, lines, totals, what was applied, balance due, how to pay it by bank transfer
(with the EPC QR code a banking app scans, for euros), and the comment thread."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request
from nicegui import ui

from components.branding import business_branding
from components.comments import CommentThread
from components.credit_dialogs import SOURCE_TITLES, ApplyDialog
from components.dialog_host import DialogHost
from components.forward_dialog import ForwardDialog
from components.frame import frame
from components.live import LiveTopics, Loads, customer_topic
from components.offload import io_bound
from components.printing import print_pdf
from components.status import status_badge
from components.tables import PHONE_HIDDEN, compact_on_phone
from models import RefundSource
from services import portal
from services.auto_pay import ScheduledCharge, scheduled_charge
from services.credit_actions import CreditOptions, credit_options
from services.dates import format_day
from services.errors import NotFound
from services.i18n import _, pgettext
from services.invoice_detail import InvoiceDocument, Party, open_invoice
from services.invoices import PAYABLE_STATUSES
from services.money import Money, format_money
from services.payment_qr import epc_qr_data_url, epc_transfer
from services.principal import Principal

Formatter = Callable[[Money], str]


@ui.page("/invoices/{public_id}")
async def invoice_page(request: Request, public_id: str) -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    view = InvoiceView(current, principal, public_id)
    topic = await customer_topic(current.db, principal)
    watch = LiveTopics(current.events, topic)  # before the first read, so no change is missed
    try:
        document, options = await view.load()
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This invoice does not exist.")) from None
    branding = await business_branding(current.db)
    with frame(
        _("{title} {number}").format(title=document.title, number=document.number),
        branding=branding,
        principal=principal,
        active="/invoices",
    ):
        view.build(document)
        view.draw(document, options)
        await CommentThread.create(current, principal, document.public_id)
        view.dialogs = DialogHost()  # last, so its empty box adds no gap between the parts above
    watch.follow(view.refresh)


class InvoiceView:
    """The invoice itself, drawn again in place when the business or an applied credit changes it.

    The comment thread below is not redrawn, so a comment being typed survives.
    """

    def __init__(self, current: portal.Portal, principal: Principal, public_id: str) -> None:
        self.current, self.principal, self.public_id = current, principal, public_id
        self.dialogs: DialogHost  # made after the comment thread, see invoice_page
        self.loads = Loads()
        self.charge: ScheduledCharge | None = None

    async def load(self) -> tuple[InvoiceDocument, CreditOptions]:
        current = self.current
        document = await io_bound(
            open_invoice, current.db, self.principal, self.public_id, today=current.clock().date(),
            clock=current.clock,
        )  # fmt: skip
        options = await io_bound(credit_options, current.db, self.principal, clock=current.clock)
        self.charge = await io_bound(
            scheduled_charge, current.db, self.principal.client_id, self.public_id, clock=current.clock
        )
        return document, options

    def build(self, document: InvoiceDocument) -> None:
        self.forward = ForwardDialog(self.current, self.principal, document.public_id, document.number)
        self.body = ui.column().classes("w-full gap-6")

    def draw(self, document: InvoiceDocument, options: CreditOptions) -> None:
        locale = document.locale

        def money(value: Money) -> str:
            return format_money(value, locale)

        self.body.clear()
        with self.body:
            _toolbar(document, money, self.forward, options)
            _in_flight_note(document, options, money)
            _auto_pay_note(self.charge, locale)
            _apply_credits(self, document, options, money)
            with ui.card().classes("w-full p-0 gap-0").props("flat bordered"):
                _parties(document, locale)
                _lines(document, money)
                _totals(document, money, locale)
                _bank_transfer(document, money)
                _notes(document)

    async def refresh(self) -> None:
        ticket = self.loads.start()
        try:
            document, options = await self.load()
        except NotFound:  # cannot happen to an issued invoice today; keep what is shown rather than fail
            return
        if self.loads.is_latest(ticket):
            self.draw(document, options)


def _toolbar(
    document: InvoiceDocument, money: Formatter, forward: ForwardDialog, options: CreditOptions
) -> None:
    with ui.row().classes("w-full items-center gap-3 -mt-4"):
        ui.link(_("← Invoices"), "/invoices").classes("text-primary no-underline")
        status_badge(document.status_label)
        ui.space()
        ui.label(_("Balance Due {amount}").format(amount=money(document.balance_due))).classes(
            "text-lg font-semibold"
        ).props("data-testid=balance-due")
        mine = next((i for i in options.invoices if i.public_id == document.public_id), None)
        all_in_flight = mine is not None and mine.can_take.minor == 0
        if document.status in PAYABLE_STATUSES and document.balance_due.minor > 0 and not all_in_flight:
            ui.button(
                _("Pay Now"), on_click=lambda: ui.navigate.to(f"/pay?invoice={document.public_id}")
            ).props("unelevated no-caps").mark("pay-now")
        more = _("More")
        with ui.button(icon="more_vert").props(f'flat round aria-label="{more}"'):
            with ui.menu().props("auto-close"):
                pdf = f"/invoices/{document.public_id}/pdf"
                # Quasar's items say "list item"; in a menu (role=menu) they are its menu items.
                ui.menu_item(_("Download PDF"), lambda: ui.navigate.to(f"{pdf}?download=1")).props(
                    "role=menuitem"
                )
                ui.menu_item(_("Print"), lambda: print_pdf(pdf)).props("role=menuitem")
                ui.menu_item(_("Forward"), forward.open).props("role=menuitem")


def _in_flight_note(document: InvoiceDocument, options: CreditOptions, money: Formatter) -> None:
    """While a bank payment or a card check is under way, say so: that part cannot be paid again."""
    mine = next((i for i in options.invoices if i.public_id == document.public_id), None)
    if mine is None or mine.can_take == mine.balance_due:
        return
    busy = Money(mine.balance_due.minor - mine.can_take.minor, mine.balance_due.currency)
    with ui.row().classes("w-full items-center gap-2 rounded bg-blue-1 text-blue-10 p-3 -mt-2 no-wrap"):
        ui.icon("schedule")
        if mine.confirming.minor > 0:  # an answer from the gateway we have not had yet
            ui.label(
                _(
                    "We are confirming a payment of {amount} towards this invoice with the payment service. "
                    "You will not be charged twice; the invoice is updated as soon as it is confirmed."
                ).format(amount=money(busy))
            ).mark("payment-processing")
        else:
            ui.label(
                _(
                    "A payment of {amount} is being processed. The invoice is marked paid once it clears."
                ).format(amount=money(busy))
            ).mark("payment-processing")


def _auto_pay_note(charge: ScheduledCharge | None, locale: str) -> None:
    """Auto-pay will charge this invoice: say when and with what, so Pay Now is not needed."""
    if charge is None:
        return
    with ui.row().classes("w-full items-center gap-2 rounded bg-blue-1 text-blue-10 p-3 -mt-2 no-wrap"):
        ui.icon("autorenew")
        ui.label(
            _("This invoice will be charged automatically on {day} with your {method}.").format(
                day=format_day(charge.on, locale), method=charge.method_text
            )
        ).mark("auto-pay-note")


def _apply_credits(
    view: InvoiceView, document: InvoiceDocument, options: CreditOptions, money: Formatter
) -> None:
    """Apply Credits / Apply Retainer Payments on an unpaid invoice, when the client has any to use."""
    mine = next((i for i in options.invoices if i.public_id == document.public_id), None)
    sources = [s for s in RefundSource if options.available(s).minor > 0]
    if mine is None or mine.can_take.minor <= 0 or not sources:
        return
    with ui.row().classes("w-full items-center gap-2 rounded bg-green-1 text-green-10 p-3 -mt-2"):
        ui.icon("savings")
        ui.label(
            _("{amounts} available to use on this invoice.").format(
                amounts=_(" and ").join(
                    _("{amount} of {source}").format(
                        amount=money(options.available(s)), source=_(SOURCE_TITLES[s]).lower()
                    )
                    for s in sources
                )
            )
        ).classes("flex-1 min-w-[14rem]")
        with ui.row().classes("gap-2 max-sm:w-full"):
            for source in sources:
                ui.button(
                    _("Apply {source_title}").format(source_title=_(SOURCE_TITLES[source])),
                    on_click=lambda source=source: _show_apply(view, options, source, document),
                ).props("outline no-caps dense").classes("px-3")


def _show_apply(
    view: InvoiceView, options: CreditOptions, source: RefundSource, document: InvoiceDocument
) -> None:
    view.dialogs.show(
        lambda: ApplyDialog(
            view.current,
            view.principal,
            options,
            source,
            document.locale,
            on_done=view.refresh,  # the balance, the applied amounts and the status all change
            invoice_public_id=document.public_id,
        )
    )


def _party(title: str, party: Party) -> None:
    with ui.column().classes("gap-0 min-w-[14rem]"):
        ui.label(title).classes("text-xs uppercase tracking-wide text-grey-7 mb-1")
        ui.label(party.company or party.name).classes("font-semibold")
        if party.company and party.name != party.company:
            ui.label(party.name)
        for line in (*party.address_lines, party.phone, party.email, party.website):
            if line:
                ui.label(line).classes("text-sm text-grey-9")
        if party.tax_id:
            ui.label(_("Tax number: {tax_number}").format(tax_number=party.tax_id)).classes(
                "text-sm text-grey-9"
            )


def _parties(document: InvoiceDocument, locale: str) -> None:
    with ui.row().classes("w-full p-5 gap-8 justify-between border-b"):
        _party(_("From"), document.business)
        _party(_("Bill to"), document.client)
        with ui.grid(columns=2).classes("gap-x-4 gap-y-1 text-sm self-start"):
            for label, value in (
                (f"{document.title} number", document.number),
                (_("Invoice date"), format_day(document.issue_date, locale)),
                (_("Due date"), format_day(document.due_date, locale)),
            ):
                ui.label(label).classes("text-grey-7")
                ui.label(value).classes("font-medium")


def _lines(document: InvoiceDocument, money: Formatter) -> None:
    columns = [
        {"name": "description", "label": _("Description"), "field": "description", "align": "left",
         "style": "white-space: normal; min-width: 12rem"},
        {"name": "quantity", "label": _("Quantity"), "field": "quantity", "align": "right"},
        {"name": "rate", "label": _("Rate"), "field": "rate", "align": "right", **PHONE_HIDDEN},
        {"name": "tax", "label": _("Tax"), "field": "tax", "align": "right", **PHONE_HIDDEN},
        {"name": "amount", "label": _("Amount"), "field": "amount", "align": "right"},
    ]  # fmt: skip
    rows = []
    for index, line in enumerate(document.lines):
        tax = f"{line.tax_rate_percent.normalize():f} %" if line.tax_rate_percent else "-"
        discount = f" (-{line.discount_percent.normalize():f} %)" if line.discount_percent else ""
        rows.append({
            "id": index,
            "description": line.description,
            "quantity": f"{line.quantity.normalize():f}",
            "rate": money(line.rate) + discount,
            "tax": f"{line.tax_name} {tax}".strip() if line.tax_rate_percent else tax,
            "amount": money(line.amount),
        })  # fmt: skip
    compact_on_phone(
        ui.table(columns=columns, rows=rows, row_key="id")
        .props("flat hide-bottom wrap-cells")
        .classes("w-full border-b")
    )


def _totals(document: InvoiceDocument, money: Formatter, locale: str) -> None:
    figures: list[tuple[str, str, str]] = [(_("Subtotal"), money(document.subtotal), "")]
    if document.discount.minor:
        figures.append((_("Discount"), "-" + money(document.discount), ""))
    figures += [(_("Tax"), money(document.tax), ""), (_("Total"), money(document.total), "font-semibold")]
    for applied in document.applied:
        label = f"{applied.label} ({format_day(applied.applied_on, locale)})"
        figures.append((label, "-" + money(applied.amount), "text-green-9"))
    figures.append((_("Balance Due"), money(document.balance_due), "text-lg font-bold"))
    with ui.row().classes("w-full justify-end p-5 border-b"):
        with ui.grid(columns="auto auto").classes("gap-x-8 gap-y-2 text-sm"):
            for label, value, style in figures:
                ui.label(label).classes(f"text-end text-grey-8 {style}")
                ui.label(value).classes(f"text-end tabular-nums {style}")


def _bank_transfer(document: InvoiceDocument, money: Formatter) -> None:
    """The business's account for a transfer of the balance due; for euros, the EPC QR code too."""
    bank = document.bank
    if bank is None or document.balance_due.minor <= 0 or document.status == "void":
        return
    transfer = epc_transfer(document)
    with ui.row().classes("w-full p-5 gap-6 border-b items-start").mark("bank-transfer"):
        if transfer is not None:
            alt = _("QR code to pay {amount} by bank transfer").format(amount=money(document.balance_due))
            ui.image(epc_qr_data_url(transfer)).props(
                f'alt="{alt}" fit=contain no-spinner no-transition'
            ).classes("w-36 h-36 shrink-0 bg-white").mark("epc-qr")
        with ui.column().classes("gap-1 min-w-[14rem]"):
            ui.label(_("Pay by bank transfer")).classes("text-xs uppercase tracking-wide text-grey-7 mb-1")
            with ui.grid(columns="auto 1fr").classes("gap-x-4 gap-y-1 text-sm"):
                rows = [(_("Bank"), bank.bank_name)] if bank.bank_name else []
                rows += [(_("IBAN"), bank.iban_grouped)]
                rows += [(_("BIC"), bank.bic)] if bank.bic else []
                rows += [
                    (pgettext("bank transfer", "Reference"), document.number),
                    (_("Amount"), money(document.balance_due)),
                ]
                for label, value in rows:
                    ui.label(label).classes("text-grey-7")
                    ui.label(value).classes("font-medium tabular-nums break-all")
            if transfer is not None:
                ui.label(
                    _("Scan the code with your banking app to pay {amount}.").format(
                        amount=money(document.balance_due)
                    )
                ).classes("text-sm text-grey-8 mt-1")


def _notes(document: InvoiceDocument) -> None:
    if not (document.notes or document.terms):
        return
    with ui.column().classes("w-full p-5 gap-3"):
        for title, text in ((_("Notes"), document.notes), (_("Terms"), document.terms)):
            if text:
                ui.label(title).classes("text-xs uppercase tracking-wide text-grey-7")
                ui.label(text).classes("text-sm whitespace-pre-line")
