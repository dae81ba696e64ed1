"""The comment thread under an invoice or a quote: oldest first, plain text, live when the other side writes.

Like a chat, the reader's side of the conversation sits on the right (on the portal the customer's, in the
back office the business's) and the other side on the left; the reader's own comments are signed "You",
so who wrote what does not rest on the position or colour alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nicegui import ui

from components.headings import section_heading
from components.live import LiveTopics
from components.offload import io_bound
from services.comments import (
    MAX_COMMENT_LENGTH,
    CommentView,
    add_comment,
    add_quote_comment,
    list_comments,
    list_quote_comments,
)
from services.dates import format_moment
from services.errors import DomainError, human_message
from services.events import invoice_comments_topic, quote_comments_topic
from services.i18n import N_, _
from services.portal import Portal
from services.principal import Principal


@dataclass(frozen=True)
class ThreadKind:
    """What a thread is about, and how it is read, added to and followed."""

    read: Callable[..., tuple[CommentView, ...]]  # (db, principal, public_id)
    add: Callable[..., CommentView]  # (db, principal, public_id, body, events=, clock=)
    topic: Callable[[str], str]
    intro: str  # shown with _()


INVOICE_THREAD = ThreadKind(
    list_comments,
    add_comment,
    invoice_comments_topic,
    N_("Questions or notes about this invoice? Write them here; our replies appear in this thread."),
)
QUOTE_THREAD = ThreadKind(
    list_quote_comments,
    add_quote_comment,
    quote_comments_topic,
    N_("Questions about this quote? Write them here; our replies appear in this thread."),
)


class CommentThread:
    """Shows the thread and a box to add to it; refreshes when the thread's change notice arrives."""

    def __init__(
        self, portal: Portal, principal: Principal, public_id: str, kind: ThreadKind = INVOICE_THREAD
    ) -> None:
        self.portal = portal
        self.principal = principal
        self.public_id = public_id
        self.kind = kind
        # before the first read, so a comment written meanwhile is not missed
        self.watch = LiveTopics(portal.events, kind.topic(public_id))
        self.comments: tuple[CommentView, ...] = ()

    @classmethod
    async def create(
        cls, portal: Portal, principal: Principal, public_id: str, kind: ThreadKind = INVOICE_THREAD
    ) -> CommentThread:
        """The thread of an invoice (by default) or, with ``QUOTE_THREAD``, of a quote."""
        thread = cls(portal, principal, public_id, kind)
        thread.comments = await io_bound(kind.read, portal.db, principal, public_id)
        thread.build()
        return thread

    def build(self) -> None:
        with ui.card().classes("w-full p-5 gap-4").props("flat bordered"):
            with ui.row().classes("items-center gap-2"):
                ui.icon("forum").classes("text-xl text-primary")
                section_heading(_("Comments"))
            ui.label(_(self.kind.intro)).classes("text-sm text-grey-7")
            self.thread()
            self.box = (
                # A label, not a placeholder: it stays when typing starts, and names the box (the
                # counter would otherwise be its name: "0 / 2000").
                ui.textarea(_("Add a comment"))
                .props(f"outlined autogrow counter maxlength={MAX_COMMENT_LENGTH}")
                .classes("w-full")
                .mark("comment-box")
            )
            self.send = ui.button(_("Add Comment"), icon="send", on_click=self.submit).props(
                "unelevated no-caps"
            )
        self.watch.follow(self.reload)

    @ui.refreshable_method
    def thread(self) -> None:
        if not self.comments:
            ui.label(_("No comments yet.")).classes("text-sm text-grey-7")
            return
        with ui.column().classes("w-full gap-3"):
            for comment in self.comments:
                # The reader's time zone and way of writing dates (the database keeps UTC).
                comment_bubble(
                    comment, ours=not comment.from_business, when=format_moment(comment.created_at)
                )

    async def submit(self) -> None:
        self.send.props("loading")
        try:
            await io_bound(
                self.kind.add,
                self.portal.db,
                self.principal,
                self.public_id,
                self.box.value or "",
                events=self.portal.events,
                clock=self.portal.clock,
            )
        except DomainError as error:
            ui.notify(human_message(error), type="negative")
            return
        finally:
            self.send.props(remove="loading")
        self.box.value = ""
        self.watch.catch_up()  # the thread is read just below, with this comment in it
        await self.reload()

    async def reload(self) -> None:
        self.comments = await io_bound(self.kind.read, self.portal.db, self.principal, self.public_id)
        self.thread.refresh()


def comment_bubble(comment: CommentView, *, ours: bool, when: str) -> ui.column:
    """One comment: its author (``You`` for the reader's own) and ``when``, then its text. ``ours``, a
    comment of the reader's side, sits on the right in blue; the other side's on the left in grey."""
    side = "bg-blue-1 self-end" if ours else "bg-grey-2 self-start"
    author = _("You") if comment.mine else comment.author
    with ui.column().classes(f"gap-1 rounded-lg px-4 py-3 max-w-[85%] {side}") as bubble:
        ui.label(f"{author} · {when}").classes("text-xs text-grey-8")
        # ui.label renders text, never HTML: "<b>" stays the three characters it is.
        ui.label(comment.body).classes("text-sm whitespace-pre-line break-words")
    return bubble.mark("comment-ours" if ours else "comment-theirs")
