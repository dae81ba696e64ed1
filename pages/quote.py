"""One quote: its lines and totals, PDF, the comment thread, and the customer's answer: Accept, signed
with their typed full name (kept with the time and their address), or Decline with a reason. Accepting
makes the invoice at once; an expired quote says so and takes no answer. Live: the page follows the
client's documents and the quote itself."""

from __future__ import annotations

from fastapi import HTTPException, Request
from nicegui import ui

from api.auth import client_address
from components.banner import banner
from components.branding import business_branding
from components.comments import QUOTE_THREAD, CommentThread
from components.frame import frame
from components.live import LiveTopics, Loads, customer_topic
from components.offload import io_bound
from components.printing import print_pdf
from components.quote_document import answer_summary, quote_document
from components.status import status_badge
from services import portal
from services.dates import format_day
from services.errors import DomainError, InvalidDetails, NotFound, human_message
from services.events import quote_topic
from services.i18n import _
from services.money import format_money
from services.principal import Principal
from services.quote_answers import (
    MAX_REASON_LENGTH,
    MAX_SIGNATURE_LENGTH,
    AcceptedQuote,
    accept_quote,
    client_quote,
    decline_quote,
)
from services.quote_documents import QuoteDocument


@ui.page("/quotes/{public_id}")
async def quote_page(request: Request, public_id: str) -> None:
    principal: Principal = request.state.principal
    current = portal.current()
    topic = await customer_topic(current.db, principal)
    watch = LiveTopics(current.events, topic, quote_topic(public_id))  # before the first read
    view = QuoteView(current, principal, public_id, client_address(request))
    try:
        document = await view.load()
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This quote does not exist.")) from None
    branding = await business_branding(current.db)
    with frame(
        _("Quote {number}").format(number=document.number),
        branding=branding,
        principal=principal,
        active="/quotes",
    ):
        view.body = ui.column().classes("w-full gap-6")
        view.draw(document)
        await CommentThread.create(current, principal, public_id, QUOTE_THREAD)
    watch.follow(view.refresh)


class QuoteView:
    """The quote and the answer box, drawn again in place when it changes (an answer in another tab)."""

    def __init__(self, current: portal.Portal, principal: Principal, public_id: str, address: str) -> None:
        self.current, self.principal, self.public_id, self.address = current, principal, public_id, address
        self.body: ui.column
        self.loads = Loads()
        self.accepted: AcceptedQuote | None = None  # what this tab's acceptance made, to say so

    async def load(self) -> QuoteDocument:
        current = self.current
        return await io_bound(client_quote, current.db, self.principal, self.public_id, now=current.clock())

    async def refresh(self) -> None:
        ticket = self.loads.start()
        document = await self.load()
        if self.loads.is_latest(ticket):
            self.draw(document)

    def draw(self, document: QuoteDocument) -> None:
        locale = document.locale
        self.body.clear()
        with self.body:
            with ui.row().classes("w-full items-center gap-3 -mt-4"):
                ui.link(_("← Quotes"), "/quotes").classes("text-primary no-underline")
                status_badge(document.status_label).mark("quote-status")
                ui.space()
                with ui.row().classes("items-center gap-1 no-wrap"):  # the menu stays by the total on a phone
                    ui.label(_("Total {amount}").format(amount=format_money(document.total, locale))).classes(
                        "text-lg font-semibold"
                    ).mark("quote-total")
                    more = _("More")
                    menu_button = ui.button(icon="more_vert").props(f'flat round aria-label="{more}"')
                with menu_button:
                    with ui.menu().props("auto-close"):
                        pdf = f"/quotes/{document.public_id}/pdf"
                        ui.menu_item(_("Download PDF"), lambda: ui.navigate.to(f"{pdf}?download=1")).props(
                            "role=menuitem"
                        )
                        ui.menu_item(_("Print"), lambda: print_pdf(pdf)).props("role=menuitem")
            if self.accepted is not None and document.invoice_public_id:
                banner(
                    "positive",
                    _(
                        "Thank you: the quote is accepted. {document} {number} is now in your invoices."
                    ).format(
                        document=_("Retainer invoice") if self.accepted.is_retainer else _("Invoice"),
                        number=self.accepted.invoice_number,
                    ),
                )
            if document.expired:
                banner(
                    "warning",
                    _(
                        "This quote was valid until {day} and can no longer be accepted. Ask us for a new "
                        "quote, here in the comments."
                    ).format(day=format_day(document.valid_until, locale)),
                )
            answer_summary(document, invoice_path="/invoices/")
            if document.can_answer:
                AnswerBox(self, document)
            quote_document(document)


class AnswerBox:
    """Accept (with the typed full name as signature) or Decline (with a reason)."""

    def __init__(self, view: QuoteView, document: QuoteDocument) -> None:
        self.view = view
        money = format_money(document.total, document.locale)
        day = format_day(document.valid_until, document.locale)
        with ui.card().classes("w-full gap-3 p-5").props("flat bordered").mark("quote-answer-box"):
            ui.label(_("Your answer")).classes("text-lg font-medium")
            if document.deposit_percent:
                terms = _(
                    "Accepting makes a retainer invoice for the deposit of {deposit} ({percent} % of "
                    "{total}), due as our payment terms say."
                ).format(
                    deposit=format_money(document.deposit, document.locale),
                    percent=f"{document.deposit_percent.normalize():f}",
                    total=money,
                )
            else:
                terms = _("Accepting makes an invoice for {total}, due as our payment terms say.").format(
                    total=money
                )
            ui.label(_("This quote is valid until {day}. {terms}").format(day=day, terms=terms)).classes(
                "text-sm text-grey-8"
            )
            with ui.row().classes("w-full items-start gap-3 max-sm:flex-col"):
                self.signature = (
                    ui.input(_("Your full name, as your signature"))
                    .props(f"outlined dense maxlength={MAX_SIGNATURE_LENGTH} autocomplete=name")
                    .classes("w-full sm:w-80")
                    .mark("signature")
                )
                self.accept_button = (
                    ui.button(_("Accept quote"), icon="check", on_click=self.accept)
                    .props("unelevated no-caps color=positive")
                    .classes("max-sm:w-full")
                    .mark("accept-quote")
                )
                ui.button(_("Decline"), icon="close", on_click=self.show_decline).props(
                    "outline no-caps color=grey-8"
                ).classes("max-sm:w-full").mark("decline-quote")
            self.signature_error = ui.label().classes("text-sm text-negative").props("role=alert")
            with ui.column().classes("w-full gap-2") as self.decline_part:
                self.reason = (
                    ui.textarea(_("Why do you decline? (required)"))
                    .props(f"outlined autogrow counter maxlength={MAX_REASON_LENGTH}")
                    .classes("w-full")
                    .mark("decline-reason")
                )
                self.reason_error = ui.label().classes("text-sm text-negative").props("role=alert")
                ui.button(_("Decline quote"), on_click=self.decline).props(
                    "unelevated no-caps color=negative"
                ).mark("confirm-decline")
            self.decline_part.set_visibility(False)

    def show_decline(self) -> None:
        self.decline_part.set_visibility(True)
        self.reason.run_method("focus")

    async def accept(self) -> None:
        view, current = self.view, self.view.current
        self.signature_error.text = ""
        self.accept_button.props("loading")
        self.accept_button.disable()  # a second click would only be told it was accepted already
        try:
            accepted = await io_bound(
                accept_quote,
                current.db,
                view.principal,
                view.public_id,
                signature=str(self.signature.value or ""),
                ip_address=view.address,
                base_url=current.settings.public_url,
                events=current.events,
                clock=current.clock,
            )
        except InvalidDetails as error:
            self.signature_error.text = " ".join(error.errors.values())
            return
        except DomainError as error:
            ui.notify(human_message(error), type="negative")
            await view.refresh()  # answered in another tab, or expired: show it as it now is
            return
        finally:
            self.accept_button.props(remove="loading")
            self.accept_button.enable()
        view.accepted = accepted
        await view.refresh()

    async def decline(self) -> None:
        view, current = self.view, self.view.current
        self.reason_error.text = ""
        try:
            await io_bound(
                decline_quote,
                current.db,
                view.principal,
                view.public_id,
                reason=str(self.reason.value or ""),
                ip_address=view.address,
                base_url=current.settings.public_url,
                events=current.events,
                clock=current.clock,
            )
        except InvalidDetails as error:
            self.reason_error.text = " ".join(error.errors.values())
            return
        except DomainError as error:
            ui.notify(human_message(error), type="negative")
            await view.refresh()
            return
        await view.refresh()
