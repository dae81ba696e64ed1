"""One quote as the business sees it (/admin/quotes/{public_id}): its status and the customer's answer
(signature, time and address, or the reason for a decline, and the invoice it became), Edit and Send a
draft, Download PDF, the quote itself and its comment thread. Live: an answer or a comment shows at once."""

from __future__ import annotations

from fastapi import HTTPException, Request
from nicegui import ui

# Imported before this module's page: /admin/quotes/new must be matched before /admin/quotes/{public_id}.
import pages.admin.quote_editor  # noqa: F401
from components.admin_frame import admin_frame
from components.banner import banner
from components.branding import business_branding
from components.comments import comment_bubble
from components.confirmation import confirmation
from components.dialog_host import DialogHost
from components.headings import section_heading
from components.live import LiveTopics, Loads
from components.offload import io_bound
from components.quote_document import answer_summary, quote_document
from components.status import status_badge
from components.url_params import UrlParams
from services import portal
from services.comments import MAX_COMMENT_LENGTH, CommentView, business_quote_thread, reply_on_quote
from services.dates import format_day, format_moment
from services.errors import DomainError, InvalidDetails, NotFound, human_message
from services.events import QUOTES_TOPIC, client_documents_topic, quote_comments_topic, quote_topic
from services.i18n import N_, _
from services.money import format_money
from services.quote_documents import QuoteDocument
from services.quotes import quote_sheet, send_quote
from services.staff_auth import StaffPrincipal

DONE = {
    "saved": N_("The draft was saved."),
    "sent": N_(
        "The quote was sent: the customer sees it in the portal and gets an e-mail with a link to it."
    ),
}


@ui.page("/admin/quotes/{public_id}")
async def quote_page(request: Request, public_id: str) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    watch = LiveTopics(current.events, quote_topic(public_id))  # before the first read
    view = QuoteSheetView(current, staff, public_id)
    try:
        document = await view.load()
    except NotFound:
        raise HTTPException(status_code=404, detail=_("This quote does not exist.")) from None
    branding = await business_branding(current.db)
    with admin_frame(
        _("Quote {number}").format(number=document.number),
        branding=branding,
        staff=staff,
        active="/admin/quotes",
    ):
        done = DONE.get(UrlParams(request.query_params).choice("done", DONE, ""))
        if done:
            banner("positive", _(done))
        view.body = ui.column().classes("w-full gap-6")
        view.draw(document)
        await StaffQuoteThread.create(current, staff, public_id)
        view.dialogs = DialogHost()
    watch.follow(view.refresh)


class QuoteSheetView:
    """The toolbar, the answer and the quote, drawn again in place when the customer answers."""

    def __init__(self, current: portal.Portal, staff: StaffPrincipal, public_id: str) -> None:
        self.current, self.staff, self.public_id = current, staff, public_id
        self.body: ui.column
        self.dialogs: DialogHost
        self.loads = Loads()

    async def load(self) -> QuoteDocument:
        current = self.current
        return await io_bound(
            quote_sheet, current.db, self.staff.organization_id, self.public_id, now=current.clock()
        )

    async def refresh(self) -> None:
        ticket = self.loads.start()
        document = await self.load()
        if self.loads.is_latest(ticket):
            self.draw(document)

    def draw(self, document: QuoteDocument) -> None:
        self.body.clear()
        with self.body:
            with ui.row().classes("w-full items-center gap-3 -mt-4"):
                ui.link(_("← Quotes"), "/admin/quotes").classes("text-primary no-underline")
                status_badge(document.status_label).mark("quote-status")
                ui.label(document.client.company or document.client.name).classes("font-medium")
                ui.space()
                ui.label(
                    _("Total {amount}").format(amount=format_money(document.total, document.locale))
                ).classes("text-lg font-semibold")
            with ui.row().classes("w-full items-center gap-2"):
                if document.status == "draft":
                    ui.button(
                        _("Edit"),
                        icon="edit",
                        on_click=lambda: ui.navigate.to(f"/admin/quotes/{document.public_id}/edit"),
                    ).props("outline no-caps")
                    ui.button(_("Send"), icon="send", on_click=lambda: self._confirm_send(document)).props(
                        "unelevated no-caps"
                    ).mark("send-quote")
                pdf = f"/admin/quotes/{document.public_id}/pdf?download=1"
                ui.button(_("Download PDF"), icon="download", on_click=lambda: ui.navigate.to(pdf)).props(
                    "flat no-caps"
                )
            self.message = ui.column().classes("w-full empty:hidden")  # no gap until it says something
            _state_note(document)
            answer_summary(document, invoice_path="/admin/invoices/")
            quote_document(document)

    def _confirm_send(self, document: QuoteDocument) -> None:
        self.dialogs.show(
            lambda: confirmation(
                _("Send quote {number}?").format(number=document.number),
                _(
                    "The customer sees it in the portal from now on and gets an e-mail with a link to it, "
                    "where they can accept or decline it. A sent quote can no longer be edited."
                ),
                _("Send quote"),
                lambda: self._send(document),
            )
        )

    async def _send(self, document: QuoteDocument) -> None:
        current = self.current
        try:
            client_public_id = await io_bound(
                send_quote,
                current.db,
                self.staff.organization_id,
                document.public_id,
                base_url=current.settings.public_url,
                staff_user_id=self.staff.staff_user_id,
                clock=current.clock,
            )
        except InvalidDetails as error:
            self._fail(" ".join(error.errors.values()) or human_message(error))
            return
        except DomainError as error:
            self._fail(human_message(error))
            return
        for topic in (
            client_documents_topic(client_public_id),
            quote_topic(document.public_id),
            QUOTES_TOPIC,
        ):
            current.events.publish(topic)
        ui.navigate.to(f"/admin/quotes/{document.public_id}?done=sent")

    def _fail(self, text: str) -> None:
        self.message.clear()
        with self.message:
            banner("negative", text)


def _state_note(document: QuoteDocument) -> None:
    """Where the quote stands when it waits: not sent yet, waiting for an answer, or expired."""
    day = format_day(document.valid_until, document.locale)
    if document.status == "draft":
        text = _("Draft: the customer does not see it until it is sent.")
    elif document.expired:
        text = _("Expired: the customer did not answer by {day}; it can no longer be accepted.").format(
            day=day
        )
    elif document.status == "sent":
        text = _("Sent on {moment}; waiting for the customer's answer until {day}.").format(
            moment=format_moment(document.sent_at) if document.sent_at else "", day=day
        )
    else:
        return
    ui.label(text).classes("text-sm text-grey-8").mark("quote-state")


class StaffQuoteThread:
    """The quote's comments, the business's on the right; a reply box; live when the customer writes."""

    def __init__(self, current: portal.Portal, staff: StaffPrincipal, public_id: str) -> None:
        self.current, self.staff, self.public_id = current, staff, public_id
        self.watch = LiveTopics(current.events, quote_comments_topic(public_id))
        self.comments: tuple[CommentView, ...] = ()
        self.box: ui.textarea

    @classmethod
    async def create(cls, current: portal.Portal, staff: StaffPrincipal, public_id: str) -> StaffQuoteThread:
        thread = cls(current, staff, public_id)
        thread.comments = await thread.read()
        with ui.card().classes("w-full p-5 gap-4").props("flat bordered"):
            with ui.row().classes("items-center gap-2"):
                ui.icon("forum").classes("text-xl text-primary")
                section_heading(_("Comments"))
            thread.thread()
            thread.box = (
                ui.textarea(_("Reply to the customer"))
                .props(f"outlined autogrow counter maxlength={MAX_COMMENT_LENGTH}")
                .classes("w-full")
                .mark("comment-box")
            )
            ui.button(_("Reply"), icon="send", on_click=thread.reply).props("unelevated no-caps")
        thread.watch.follow(thread.reload)
        return thread

    async def read(self) -> tuple[CommentView, ...]:
        return await io_bound(
            business_quote_thread,
            self.current.db,
            self.staff.organization_id,
            self.public_id,
            staff_user_id=self.staff.staff_user_id,
        )

    @ui.refreshable_method
    def thread(self) -> None:
        if not self.comments:
            ui.label(_("No comments yet.")).classes("text-sm text-grey-7")
            return
        with ui.column().classes("w-full gap-3"):
            for comment in self.comments:
                comment_bubble(comment, ours=comment.from_business, when=format_moment(comment.created_at))

    async def reply(self) -> None:
        try:
            await io_bound(
                reply_on_quote,
                self.current.db,
                staff_user_id=self.staff.staff_user_id,
                quote_public_id=self.public_id,
                body=str(self.box.value or ""),
                events=self.current.events,
                clock=self.current.clock,
            )
        except DomainError as error:
            ui.notify(human_message(error), type="negative")
            return
        self.box.value = ""
        self.watch.catch_up()
        await self.reload()

    async def reload(self) -> None:
        self.comments = await self.read()
        self.thread.refresh()
