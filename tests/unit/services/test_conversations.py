"""The business's inbox: comment threads, messages and reviews, newest first, with what is unread."""

from __future__ import annotations

import pytest

from models import StaffUser
from services.comments import add_comment, business_thread, reply_as_business
from services.contact_business import send_message
from services.conversations import InboxFilter, InboxKind, inbox, mark_read, unread_count
from services.errors import NotFound
from services.events import BUSINESS_INBOX_TOPIC, Events
from services.reviews import submit_review
from tests.factories import NOW, Clock, make_customer, make_organization, make_sent_invoice


@pytest.fixture
def business(db):
    organization = make_organization(db)
    ann = make_customer(db, organization, name="Bluebird Cafe", email="ann@bluebird.example")
    bob = make_customer(db, organization, name="Harbor Books", email="bob@harbor.example")
    with db.transaction() as session:
        staff = StaffUser(organization_id=organization, name="Olivia", email="olivia@biz.example",
                          password_hash="x", created_at=NOW)  # fmt: skip
        session.add(staff)
        session.flush()
        staff_id = staff.id
    return {
        "organization": organization,
        "ann": ann,
        "bob": bob,
        "staff_id": staff_id,
        "invoice": make_sent_invoice(db, ann.client_id, 12000),
        "other_invoice": make_sent_invoice(db, bob.client_id, 5000),
        "clock": Clock(),
    }


def later(business):
    business["clock"].advance(minutes=1)
    return business["clock"]


def test_everything_customers_wrote_is_listed_newest_first_with_one_entry_per_thread(db, business):
    ann, bob, invoice = business["ann"], business["bob"], business["invoice"]
    add_comment(db, ann, invoice.public_id, "First question", clock=later(business))
    message = send_message(db, bob, "New project", "Can you design our menu?", clock=later(business))
    add_comment(db, ann, invoice.public_id, "Second question", clock=later(business))
    review = submit_review(db, bob, 4, "Quick and friendly.", clock=later(business))

    box = inbox(db, business["organization"])

    assert [(i.kind, i.public_id) for i in box.items] == [
        (InboxKind.REVIEW, review),
        (InboxKind.COMMENT, invoice.public_id),
        (InboxKind.MESSAGE, message.public_id),
    ]
    review_item, thread, message_item = box.items
    assert (review_item.rating, review_item.body, review_item.client_name) == (
        4,
        "Quick and friendly.",
        "Harbor Books",
    )
    assert (thread.body, thread.unread, thread.comment_count, thread.invoice_number) == (
        "Second question", 2, 2, invoice.number,
    )  # fmt: skip
    assert (message_item.subject, message_item.author_email) == ("New project", "bob@harbor.example")
    assert box.unread == 3  # the thread counts once
    assert unread_count(db, business["organization"]) == 3
    assert not box.has_more


def test_another_business_never_sees_the_entries(db, business):
    add_comment(db, business["ann"], business["invoice"].public_id, "Hello")
    send_message(db, business["bob"], "Hi", "There")
    elsewhere = make_organization(db, "Elsewhere Ltd")

    assert inbox(db, elsewhere).items == ()
    assert unread_count(db, elsewhere) == 0
    with pytest.raises(NotFound):
        mark_read(db, elsewhere, InboxKind.COMMENT, business["invoice"].public_id)
    with pytest.raises(NotFound):
        business_thread(db, elsewhere, business["invoice"].id)


def test_opening_an_entry_reads_it_once_and_tells_other_open_inboxes(db, business):
    events = Events()
    organization = business["organization"]
    add_comment(db, business["ann"], business["invoice"].public_id, "Hello")
    sent = send_message(db, business["bob"], "Hi", "There")

    assert mark_read(db, organization, InboxKind.COMMENT, business["invoice"].public_id, events=events)
    assert mark_read(db, organization, InboxKind.MESSAGE, sent.public_id, events=events)
    assert not mark_read(db, organization, InboxKind.MESSAGE, sent.public_id, events=events)

    assert events.version(BUSINESS_INBOX_TOPIC) == 2
    assert inbox(db, organization).unread == 0
    assert all(item.unread == 0 for item in inbox(db, organization).items)


def test_a_reply_reads_the_thread_and_the_customer_sees_it_in_the_business_thread(db, business):
    invoice = business["invoice"]
    add_comment(db, business["ann"], invoice.public_id, "Is the PO on it?", clock=later(business))
    reply_as_business(db, staff_user_id=business["staff_id"], invoice_id=invoice.id, body="Yes.",
                      clock=later(business))  # fmt: skip

    (thread,) = inbox(db, business["organization"]).items
    assert (thread.body, thread.from_business, thread.author, thread.unread) == ("Yes.", True, "Olivia", 0)
    comments = business_thread(db, business["organization"], invoice.id)
    assert [(c.body, c.from_business) for c in comments] == [("Is the PO on it?", False), ("Yes.", True)]


def test_the_filters_show_one_kind_or_what_is_unread_keeping_what_is_open(db, business):
    organization, invoice = business["organization"], business["invoice"]
    add_comment(db, business["ann"], invoice.public_id, "A comment", clock=later(business))
    message = send_message(db, business["bob"], "A message", "Text", clock=later(business))
    submit_review(db, business["bob"], 5, "A review", clock=later(business))

    def kinds(**options):
        return [item.kind for item in inbox(db, organization, **options).items]

    assert kinds(filter=InboxFilter.COMMENTS) == [InboxKind.COMMENT]
    assert kinds(filter=InboxFilter.MESSAGES) == [InboxKind.MESSAGE]
    assert kinds(filter=InboxFilter.REVIEWS) == [InboxKind.REVIEW]
    mark_read(db, organization, InboxKind.MESSAGE, message.public_id)
    mark_read(db, organization, InboxKind.COMMENT, invoice.public_id)
    assert kinds(filter=InboxFilter.UNREAD) == [InboxKind.REVIEW]
    assert kinds(filter=InboxFilter.UNREAD, keep=[message.public_id]) == [InboxKind.REVIEW, InboxKind.MESSAGE]


def test_the_limit_says_when_there_is_more(db, business):
    for number in range(3):
        send_message(db, business["bob"], f"Message {number}", "Text", clock=later(business))

    box = inbox(db, business["organization"], limit=2)

    assert [item.subject for item in box.items] == ["Message 2", "Message 1"]
    assert box.has_more


def test_customers_writing_move_the_inbox_topic(db, business):
    events = Events()
    add_comment(db, business["ann"], business["invoice"].public_id, "Hello", events=events)
    send_message(db, business["bob"], "Hi", "There", events=events)
    submit_review(db, business["bob"], 3, "Fine", events=events)
    assert events.version(BUSINESS_INBOX_TOPIC) == 3
