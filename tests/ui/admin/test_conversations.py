"""Conversations: the business reads customers' comments, messages and reviews, and answers them."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select

from components.markup import Markup
from models import Client, Comment, Invoice, InvoiceStatus, Message, PortalUser, Review
from services import portal
from services.comments import add_comment, list_comments
from services.contact_business import send_message
from services.demo import CUSTOMER_EMAIL
from services.errors import CommentRejected, human_message
from services.principal import Principal
from services.reviews import submit_review
from tests.ui.admin.conftest import set_value, until

LIVE = 50  # retries of 0.1 s: the inbox looks for news about once a second


def demo_customer() -> tuple[Principal, str, str]:
    """The demo customer, and the public id and number of one of their invoices without comments."""
    with portal.current().db.reading() as session:
        user = session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()
        client = session.get_one(Client, user.client_id)
        commented = select(Comment.invoice_id)
        invoice = session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client.id, Invoice.status != InvoiceStatus.DRAFT)
            .where(Invoice.id.not_in(commented))
            .order_by(Invoice.id)
        ).first()
        assert invoice is not None
        principal = Principal(user.id, client.id, client.organization_id, user.name, user.email, 0)
        return principal, invoice.public_id, invoice.number


def comment(principal: Principal, invoice: str, body: str) -> None:
    current = portal.current()
    add_comment(current.db, principal, invoice, body, events=current.events, clock=current.clock)


def unread_comments(invoice: str) -> int:
    with portal.current().db.reading() as session:
        return len(
            session.scalars(
                select(Comment.id)
                .join(Invoice, Invoice.id == Comment.invoice_id)
                .where(
                    Invoice.public_id == invoice,
                    Comment.portal_user_id.is_not(None),
                    Comment.read_at.is_(None),
                )
            ).all()
        )


async def test_a_customers_comment_is_unread_until_it_is_opened(owner: User) -> None:
    customer, invoice, number = demo_customer()
    comment(customer, invoice, "Can we pay this one in two parts?")
    await owner.open("/admin/conversations")
    await owner.should_see("1 unread")
    await owner.should_see(f"Comment on invoice {number}")
    await owner.should_see("Can we pay this one in two parts?")
    await owner.should_see(marker="unread-badge")

    owner.find(marker=f"open-{invoice}").click()

    await owner.should_see("All read")
    await owner.should_not_see(marker="unread-badge")
    assert unread_comments(invoice) == 0


async def test_a_comment_written_while_the_inbox_is_open_appears_without_a_reload(owner: User) -> None:
    customer, invoice, _ = demo_customer()
    await owner.open("/admin/conversations")
    await owner.should_see("All read")

    comment(customer, invoice, "Is the discount included?")

    await owner.should_see("Is the discount included?", retries=LIVE)
    await owner.should_see("1 unread")


async def test_the_reply_is_kept_on_the_thread_the_customer_reads(owner: User) -> None:
    customer, invoice, number = demo_customer()
    comment(customer, invoice, "Which bank account should we use?")
    await owner.open("/admin/conversations")
    await owner.should_see("Which bank account should we use?")
    owner.find(marker=f"open-{invoice}").click()
    await owner.should_see(marker=f"reply-{invoice}")
    link = owner.find(marker="view-invoice").elements.pop()
    assert isinstance(link, ui.link)
    assert (link.text, link.props["href"]) == (f"View invoice {number}", f"/admin/invoices/{invoice}")

    set_value(owner, f"reply-{invoice}", "  The one printed on the invoice, thank you.  ")
    owner.find(kind=ui.button, content="Reply").click()

    db = portal.current().db
    await until(lambda: len(list_comments(db, customer, invoice)) == 2)
    reply = list_comments(db, customer, invoice)[-1]
    assert reply.from_business
    assert reply.body == "The one printed on the invoice, thank you."
    assert reply.author.endswith("(Northwind Design Studio)")
    await owner.should_see("The one printed on the invoice, thank you.")
    await owner.should_see("Reply sent. The customer sees it on the invoice.")


async def test_the_businesss_replies_sit_on_its_side_and_the_owners_own_are_signed_you(owner: User) -> None:
    customer, invoice, _ = demo_customer()
    comment(customer, invoice, "Can we pay by cheque?")
    await owner.open("/admin/conversations")
    await owner.should_see("Can we pay by cheque?")
    owner.find(marker=f"open-{invoice}").click()
    await owner.should_see(marker=f"reply-{invoice}")
    set_value(owner, f"reply-{invoice}", "Yes, made out to Northwind.")
    owner.find(kind=ui.button, content="Reply").click()
    await owner.should_see("Reply sent. The customer sees it on the invoice.")

    def bubbles(marker: str) -> list[tuple[list[str], list[str]]]:
        return [
            ([label.text for label in bubble.descendants() if isinstance(label, ui.label)], bubble.classes)
            for bubble in owner.find(marker=marker).elements
        ]

    [(ours, ours_classes)] = bubbles("comment-ours")
    [(theirs, theirs_classes)] = bubbles("comment-theirs")
    assert ours[0].startswith("You · ")
    assert ours[1] == "Yes, made out to Northwind."
    assert "self-end" in ours_classes
    assert theirs[0].startswith(f"{customer.name} · ")
    assert theirs[1] == "Can we pay by cheque?"
    assert "self-start" in theirs_classes


async def test_an_empty_reply_is_refused_with_a_message_and_nothing_is_kept(owner: User) -> None:
    customer, invoice, _ = demo_customer()
    comment(customer, invoice, "Hello?")
    await owner.open("/admin/conversations")
    await owner.should_see("Hello?")
    owner.find(marker=f"open-{invoice}").click()
    await owner.should_see(marker=f"reply-{invoice}")

    set_value(owner, f"reply-{invoice}", "   ")
    owner.find(kind=ui.button, content="Reply").click()

    await owner.should_see(human_message(CommentRejected("empty")))
    assert len(list_comments(portal.current().db, customer, invoice)) == 1


async def test_messages_and_reviews_are_in_the_inbox_and_a_message_is_answered_by_e_mail(owner: User) -> None:
    customer, _, _ = demo_customer()
    current = portal.current()
    sent = send_message(
        current.db, customer, "New project", "Can you design our menu?", events=current.events
    )
    review = submit_review(current.db, customer, 4, "Quick and friendly.", events=current.events)
    await owner.open("/admin/conversations")
    await owner.should_see("2 unread")
    await owner.should_see("New project")
    await owner.should_see("Can you design our menu?")
    await owner.should_see("Review ★★★★☆ (4 of 5)")
    await owner.should_see("Quick and friendly.")

    owner.find(marker=f"open-{sent.public_id}").click()

    await owner.should_see(marker="reply-email")
    link = owner.find(marker="reply-email").elements.pop()
    assert isinstance(link, ui.link)
    assert link.props["href"] == f"mailto:{CUSTOMER_EMAIL}?subject=Re%3A%20New%20project"
    await owner.should_see("1 unread")
    with current.db.reading() as session:
        assert session.scalars(select(Message.read_at).where(Message.public_id == sent.public_id)).one()
        assert session.scalars(select(Review.read_at).where(Review.public_id == review)).one() is None


async def test_the_filters_show_one_kind_or_what_is_unread(owner: User) -> None:
    customer, invoice, number = demo_customer()
    current = portal.current()
    comment(customer, invoice, "A question on the invoice")
    send_message(current.db, customer, "A message subject", "A message", events=current.events)
    submit_review(current.db, customer, 5, "A review", events=current.events)
    await owner.open("/admin/conversations")
    everything = ("A question on the invoice", "A message subject", "A review")
    for text in everything:
        await owner.should_see(text)

    for tab, shown in (
        ("Comments", "A question on the invoice"),
        ("Messages", "A message subject"),
        ("Reviews", "A review"),
    ):
        owner.find(marker=f"filter-{tab.lower()}").click()
        await owner.should_see(shown)
        for text in everything:
            if text != shown:
                await owner.should_not_see(text)

    owner.find(marker="filter-comments").click()
    await owner.should_see(f"Comment on invoice {number}")
    owner.find(marker=f"open-{invoice}").click()  # read now
    await owner.should_see("2 unread")
    owner.find(marker="filter-unread").click()
    await owner.should_see("A message subject")
    await owner.should_see("A review")
    await owner.should_see("A question on the invoice")  # still open, so it stays while being read
    owner.find(marker=f"open-{invoice}").click()  # closed: gone from Unread
    await owner.should_not_see("A question on the invoice")


async def test_markup_in_what_customers_write_is_shown_as_the_text_it_is(owner: User) -> None:
    customer, invoice, _ = demo_customer()
    current = portal.current()
    comment(customer, invoice, "<b>x</b> in a comment")
    send_message(current.db, customer, "<i>subject</i>", "<script>alert(1)</script>", events=current.events)
    await owner.open("/admin/conversations")
    await owner.should_see("<b>x</b> in a comment")
    await owner.should_see("<i>subject</i>")
    await owner.should_see("<script>alert(1)</script>")
    # Only the frame's own text is markup (``Markup`` escapes all it is given); no raw HTML anywhere.
    assert owner.client is not None
    raw = [e for e in owner.client.elements.values() if isinstance(e, ui.html) and not isinstance(e, Markup)]
    assert not raw


async def test_a_staff_member_who_is_not_the_owner_reads_the_inbox_too(staff: User) -> None:
    customer, invoice, _ = demo_customer()
    comment(customer, invoice, "For whoever is at the desk")
    await staff.open("/admin/conversations")
    await staff.should_see("For whoever is at the desk")
