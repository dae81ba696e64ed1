"""Conversations (/admin/conversations): customers' comments on invoices and quotes, messages and reviews
in one inbox, newest first; opening an entry reads it, a comment thread is answered here, a message by e-mail.

The inbox keeps itself current: when a customer writes, the entries that changed are drawn again and
the rest stay as they are, so a reply being typed keeps its text and its cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from nicegui import events, ui

from components.admin_frame import admin_frame
from components.branding import business_branding
from components.comments import comment_bubble
from components.live import LiveTopics, Loads
from components.offload import io_bound
from services import portal
from services.comments import (
    MAX_COMMENT_LENGTH,
    CommentView,
    business_quote_thread,
    business_thread,
    reply_as_business,
    reply_on_quote,
)
from services.conversations import DEFAULT_LIMIT, Inbox, InboxFilter, InboxItem, InboxKind, inbox, mark_read
from services.dates import format_clock_time, format_day, format_moment
from services.errors import DomainError, human_message
from services.events import BUSINESS_INBOX_TOPIC
from services.i18n import N_, _
from services.staff_auth import StaffPrincipal

FILTER_LABELS = {
    InboxFilter.ALL: N_("All"),
    InboxFilter.COMMENTS: N_("Comments"),
    InboxFilter.MESSAGES: N_("Messages"),
    InboxFilter.REVIEWS: N_("Reviews"),
    InboxFilter.UNREAD: N_("Unread"),
}
KIND_ICONS = {InboxKind.COMMENT: "forum", InboxKind.MESSAGE: "mail", InboxKind.REVIEW: "star"}
EMPTY = {
    InboxFilter.ALL: N_("No comments, messages or reviews yet."),
    InboxFilter.COMMENTS: N_("No comments on invoices or quotes yet."),
    InboxFilter.MESSAGES: N_("No messages yet."),
    InboxFilter.REVIEWS: N_("No reviews yet."),
    InboxFilter.UNREAD: N_("Nothing unread. You are all caught up."),
}


@ui.page("/admin/conversations")
async def conversations_page(request: Request) -> None:
    staff: StaffPrincipal = request.state.staff
    current = portal.current()
    branding = await business_branding(current.db)
    with admin_frame(_("Conversations"), branding=branding, staff=staff, active="/admin/conversations"):
        view = ConversationsView(current, staff, branding.locale)
        await view.reload()
        view.watch.follow(view.reload)


class ConversationsView:
    """The inbox: a header with the unread count and the filter, then one card per entry."""

    def __init__(self, current: portal.Portal, staff: StaffPrincipal, locale: str) -> None:
        self.current, self.staff, self.locale = current, staff, locale
        self.filter = InboxFilter.ALL
        self.limit = DEFAULT_LIMIT
        self.opened: set[str] = set()  # keys of the entries shown open
        self.drafts: dict[str, str] = {}  # replies being typed, by entry key
        self.cards: dict[str, EntryCard] = {}
        self.loads = Loads()
        # Watch from before the first read, so a customer's comment made meanwhile is not missed.
        self.watch = LiveTopics(current.events, BUSINESS_INBOX_TOPIC)
        with ui.row().classes("w-full items-center gap-x-4 gap-y-2 -mt-2"):
            self.unread = ui.label().classes("text-sm font-medium").mark("unread-count")
            ui.space()
            with (
                ui.tabs()
                .props(
                    "dense no-caps inline-label outside-arrows mobile-arrows align=left active-color=primary"
                )
                .classes("max-w-full text-grey-8") as tabs
            ):
                for kind, label in FILTER_LABELS.items():
                    ui.tab(kind.value, _(label)).mark(f"filter-{kind.value}")
            tabs.value = self.filter.value
            tabs.on_value_change(self.on_filter)
        self.list = ui.column().classes("w-full gap-3")
        self.empty = ui.label().classes("text-grey-7")
        self.more = (
            ui.button(_("Show more"), on_click=self.show_more).props("flat no-caps").classes("self-center")
        )

    async def reload(self) -> None:
        """Read the inbox and the open threads, then draw only what changed."""
        current = self.current
        ticket = self.loads.start()
        open_ids = [key.partition(":")[2] for key in self.opened]
        box: Inbox = await io_bound(
            inbox, current.db, self.staff.organization_id, filter=self.filter, limit=self.limit, keep=open_ids
        )
        threads: dict[str, tuple[CommentView, ...]] = {}
        for item in box.items:
            if item.kind is not InboxKind.COMMENT or item.key not in self.opened:
                continue
            if item.quote_number:
                threads[item.key] = await io_bound(
                    business_quote_thread,
                    current.db,
                    self.staff.organization_id,
                    item.public_id,
                    staff_user_id=self.staff.staff_user_id,
                )
            elif item.invoice_id is not None:
                threads[item.key] = await io_bound(
                    business_thread,
                    current.db,
                    self.staff.organization_id,
                    item.invoice_id,
                    staff_user_id=self.staff.staff_user_id,
                )
        if self.loads.is_latest(ticket):
            self.draw(box, threads)

    def draw(self, box: Inbox, threads: dict[str, tuple[CommentView, ...]]) -> None:
        self.unread.text = f"{box.unread} unread" if box.unread else _("All read")
        self.unread.classes(
            replace="text-sm " + ("font-semibold text-primary" if box.unread else "text-grey-7")
        )
        keep = {item.key for item in box.items}
        for key in [key for key in self.cards if key not in keep]:
            self.cards.pop(key).delete()
        for index, item in enumerate(box.items):
            shown = EntryShown(item, item.key in self.opened, threads.get(item.key, ()))
            card = self.cards.get(item.key)
            if card is None or card.shown != shown:
                if card is not None:
                    card.delete()
                with self.list:
                    card = EntryCard(self, shown)
                self.cards[item.key] = card
            card.element.move(self.list, target_index=index)
        self.empty.text = "" if box.items else _(EMPTY[self.filter])
        self.empty.set_visibility(not box.items)
        self.more.set_visibility(box.has_more)

    async def on_filter(self, event: events.ValueChangeEventArguments) -> None:
        self.filter = InboxFilter(event.value)
        self.limit = DEFAULT_LIMIT
        await self.reload()

    async def show_more(self) -> None:
        self.limit += DEFAULT_LIMIT
        await self.reload()

    async def toggle(self, item: InboxItem) -> None:
        """Open an entry (which reads it) or close it again."""
        if item.key in self.opened:
            self.opened.discard(item.key)
        else:
            self.opened.add(item.key)
            if item.unread:
                try:
                    await io_bound(
                        mark_read,
                        self.current.db,
                        self.staff.organization_id,
                        item.kind,
                        item.public_id,
                        events=self.current.events,
                        clock=self.current.clock,
                    )
                except DomainError as error:
                    ui.notify(human_message(error), type="negative")
        self.watch.catch_up()  # this page reads the change itself, just below
        await self.reload()

    async def reply(self, item: InboxItem, error: ui.label) -> None:
        error.text = ""
        common = {
            "staff_user_id": self.staff.staff_user_id,
            "body": self.drafts.get(item.key, ""),
            "events": self.current.events,  # the customer's open invoice or quote page shows the reply
            "clock": self.current.clock,
        }
        try:
            if item.quote_number:
                await io_bound(reply_on_quote, self.current.db, quote_public_id=item.public_id, **common)
            elif item.invoice_id is not None:
                await io_bound(reply_as_business, self.current.db, invoice_id=item.invoice_id, **common)
            else:
                return
        except DomainError as failure:
            error.text = human_message(failure)
            return
        self.drafts.pop(item.key, None)
        self.watch.catch_up()
        await self.reload()
        sent = (
            _("Reply sent. The customer sees it on the quote.")
            if item.quote_number
            else _("Reply sent. The customer sees it on the invoice.")
        )
        ui.notify(sent, type="positive")


@dataclass(frozen=True)
class EntryShown:
    """What an entry's card shows; a card whose ``EntryShown`` is unchanged is not drawn again."""

    item: InboxItem
    opened: bool
    thread: tuple[CommentView, ...]


class EntryCard:
    """One entry: its summary line (a click opens or closes it) and, when open, all of it."""

    def __init__(self, view: ConversationsView, shown: EntryShown) -> None:
        self.view, self.shown = view, shown
        item = shown.item
        unread = item.unread > 0
        border = "border-s-4 border-primary" if unread else ""
        with ui.card().classes(f"w-full p-0 gap-0 {border}").props("flat bordered") as self.element:
            self.element.mark(f"entry-{item.public_id}")
            self.summary(item, unread)
            if shown.opened:
                with ui.column().classes("w-full gap-3 px-4 pb-4 pt-1"):
                    if item.kind is InboxKind.COMMENT:
                        self.thread(item, shown.thread)
                    elif item.kind is InboxKind.MESSAGE:
                        self.message(item)
                    else:
                        self.review(item)

    def delete(self) -> None:
        self.element.delete()

    def summary(self, item: InboxItem, unread: bool) -> None:
        weight = "font-semibold text-grey-10" if unread else "text-grey-9"
        with ui.item(on_click=lambda: self.view.toggle(item)).classes("w-full rounded-borders py-3") as row:
            # It opens and closes the entry: a button (Quasar would call it a list item, with no list).
            row.mark(f"open-{item.public_id}").props(
                f"role=button aria-expanded={str(self.shown.opened).lower()}"
            )
            with ui.item_section().props("avatar").classes("max-sm:hidden"):  # room for the text on a phone
                ui.icon(KIND_ICONS[item.kind]).classes("text-2xl text-grey-7")
            with ui.item_section().classes("min-w-0"):
                ui.label(_title(item)).classes(f"{weight} break-words")
                who = f"{item.author} · {item.client_name}" if item.author else item.client_name
                if item.kind is InboxKind.COMMENT and item.from_business:
                    who = f"{item.author} replied · {item.client_name}"
                ui.label(who).classes("text-sm text-grey-7 break-words")
                if not self.shown.opened:
                    # ui.label renders text, never HTML: a customer's "<b>" stays the three characters.
                    ui.label(item.body).classes("text-sm text-grey-8 line-clamp-2 break-words")
            with ui.item_section().props("side top").classes("items-end gap-1"):
                day = format_day(item.at, self.view.locale)
                ui.label(day).classes("text-xs text-grey-7 whitespace-nowrap")
                ui.label(format_clock_time(item.at)).classes("text-xs text-grey-7 max-sm:hidden")
                if unread:
                    new = f"{item.unread} new" if item.unread > 1 else _("New")
                    ui.badge(new).props("color=primary").classes("text-xs").mark("unread-badge")

    def thread(self, item: InboxItem, comments: tuple[CommentView, ...]) -> None:
        with ui.column().classes("w-full gap-3"):
            if item.quote_number:
                ui.link(
                    _("View quote {number}").format(number=item.quote_number),
                    f"/admin/quotes/{item.public_id}",
                ).classes("text-sm text-primary").mark("view-quote")
            else:
                ui.link(
                    _("View invoice {invoice_number}").format(invoice_number=item.invoice_number),
                    f"/admin/invoices/{item.public_id}",
                ).classes("text-sm text-primary").mark("view-invoice")
            for comment in comments:
                comment_bubble(comment, ours=comment.from_business, when=_stamp(comment, self.view.locale))
        drafts = self.view.drafts
        (
            ui.textarea(
                placeholder=_("Write a reply the customer sees on the quote")
                if item.quote_number
                else _("Write a reply the customer sees on the invoice"),
                value=drafts.get(item.key, ""),
                on_change=lambda event: drafts.__setitem__(item.key, event.value or ""),
            )
            .props(f"outlined autogrow counter maxlength={MAX_COMMENT_LENGTH}")
            .classes("w-full")
            .mark("reply-text", f"reply-{item.public_id}")
        )
        error = ui.label().classes("text-sm text-negative -mt-2").mark("reply-error")
        ui.button(_("Reply"), icon="send", on_click=lambda: self.view.reply(item, error)).props(
            "unelevated no-caps"
        ).classes("self-end")

    def message(self, item: InboxItem) -> None:
        ui.label(item.body).classes("text-sm whitespace-pre-line break-words")
        mailto = f"mailto:{item.author_email}?subject={quote(_('Re: ') + item.subject)}"
        with ui.row().classes("w-full items-center gap-x-2 gap-y-1 text-sm"):
            ui.label(_("Answer by e-mail:")).classes("text-grey-8")
            ui.link(item.author_email, mailto).classes("text-primary break-all").mark("reply-email")

    def review(self, item: InboxItem) -> None:
        ui.label(item.body).classes("text-sm whitespace-pre-line break-words")


def _title(item: InboxItem) -> str:
    if item.kind is InboxKind.COMMENT and item.quote_number:
        if item.comment_count > 1:
            return _("Comment on quote {number} ({count} comments)").format(
                number=item.quote_number, count=item.comment_count
            )
        return _("Comment on quote {number}").format(number=item.quote_number)
    if item.kind is InboxKind.COMMENT:
        if item.comment_count > 1:
            return _("Comment on invoice {number} ({count} comments)").format(
                number=item.invoice_number, count=item.comment_count
            )
        return _("Comment on invoice {number}").format(number=item.invoice_number)
    if item.kind is InboxKind.MESSAGE:
        return item.subject
    stars = item.rating or 0
    return _("Review {stars} ({count} of 5)").format(stars="★" * stars + "☆" * (5 - stars), count=stars)


def _stamp(comment: CommentView, locale: str) -> str:
    return format_moment(comment.created_at, locale)  # in the reader's time zone
