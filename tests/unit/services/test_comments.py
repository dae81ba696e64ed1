"""Comments: the customer and the business talk on an invoice; the record is plain text and scoped."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models import StaffUser
from services.comments import (
    MAX_COMMENT_LENGTH,
    add_comment,
    business_thread,
    list_comments,
    reply_as_business,
)
from services.errors import CommentRejected, NotFound
from services.events import Events, invoice_comments_topic
from services.principal import Principal
from tests.factories import NOW, make_client, make_organization, make_portal_user, make_sent_invoice


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def thread(db):
    organization = make_organization(db)
    client = make_client(db, organization)
    other = make_client(db, organization, name="Other Co")
    user = make_portal_user(db, client, "ann@client.example")
    with db.transaction() as session:
        staff = StaffUser(organization_id=organization, name="Olivia", email="olivia@biz.example",
                          password_hash="x", created_at=NOW)  # fmt: skip
        session.add(staff)
        session.flush()
        staff_id = staff.id
    invoice = make_sent_invoice(db, client, 12000)
    foreign = make_sent_invoice(db, other, 5000)
    return {
        "customer": Principal(user, client, organization, "Ann", "ann@client.example", 1),
        "staff_id": staff_id,
        "invoice": invoice,
        "foreign": foreign,
    }


def test_the_thread_holds_both_sides_oldest_first(db, thread):
    clock = Clock()
    events = Events()
    topic = invoice_comments_topic(thread["invoice"].public_id)
    add_comment(db, thread["customer"], thread["invoice"].public_id, "  Is the PO on it?  ", clock=clock,
                events=events)  # fmt: skip
    reply_as_business(db, staff_user_id=thread["staff_id"], invoice_id=thread["invoice"].id,
                      body="Yes, it is.", clock=clock, events=events)  # fmt: skip
    comments = list_comments(db, thread["customer"], thread["invoice"].public_id)
    assert [(c.author, c.from_business, c.body) for c in comments] == [
        ("Ann", False, "Is the PO on it?"),
        ("Olivia (Acme Studio)", True, "Yes, it is."),
    ]
    assert comments[0].created_at < comments[1].created_at
    assert events.version(topic) == 2


def test_each_reader_finds_their_own_comments_marked_as_theirs(db, thread):
    customer, invoice = thread["customer"], thread["invoice"]
    colleague = make_portal_user(db, customer.client_id, "bo@client.example")
    bo = Principal(colleague, customer.client_id, customer.organization_id, "Bo", "bo@client.example", 2)
    clock = Clock()
    mine = add_comment(db, customer, invoice.public_id, "Is the PO on it?", clock=clock)
    add_comment(db, bo, invoice.public_id, "It should be PO-77.", clock=clock)
    reply = reply_as_business(db, staff_user_id=thread["staff_id"], invoice_id=invoice.id, body="Yes.",
                              clock=clock)  # fmt: skip
    assert (mine.mine, reply.mine) == (True, True)  # what each writer gets back is theirs

    def marks(comments):
        return [(c.body, c.mine) for c in comments]

    assert marks(list_comments(db, customer, invoice.public_id)) == [
        ("Is the PO on it?", True),
        ("It should be PO-77.", False),  # a colleague's, of the same client
        ("Yes.", False),
    ]
    assert marks(list_comments(db, bo, invoice.public_id)) == [
        ("Is the PO on it?", False),
        ("It should be PO-77.", True),
        ("Yes.", False),
    ]
    as_staff = business_thread(db, customer.organization_id, invoice.id, staff_user_id=thread["staff_id"])
    assert marks(as_staff) == [("Is the PO on it?", False), ("It should be PO-77.", False), ("Yes.", True)]
    assert not any(c.mine for c in business_thread(db, customer.organization_id, invoice.id))


def test_markup_is_stored_as_the_text_it_is(db, thread):
    body = "<script>alert(1)</script> <b>bold</b>"
    add_comment(db, thread["customer"], thread["invoice"].public_id, body)
    assert list_comments(db, thread["customer"], thread["invoice"].public_id)[0].body == body


@pytest.mark.parametrize(("body", "reason"), [("", "empty"), ("  \n ", "empty"), ("x" * 2001, "too_long")])
def test_empty_and_overlong_comments_are_refused_and_nothing_is_stored(db, thread, body, reason):
    with pytest.raises(CommentRejected) as refused:
        add_comment(db, thread["customer"], thread["invoice"].public_id, body)
    assert refused.value.reason == reason
    assert list_comments(db, thread["customer"], thread["invoice"].public_id) == ()


def test_the_limit_itself_is_accepted(db, thread):
    add_comment(db, thread["customer"], thread["invoice"].public_id, "x" * MAX_COMMENT_LENGTH)
    assert len(list_comments(db, thread["customer"], thread["invoice"].public_id)) == 1


def test_another_clients_invoice_is_not_found(db, thread):
    with pytest.raises(NotFound):
        add_comment(db, thread["customer"], thread["foreign"].public_id, "Hello")
    with pytest.raises(NotFound):
        list_comments(db, thread["customer"], thread["foreign"].public_id)


def test_text_with_a_nul_character_is_kept_with_a_replacement_character_on_every_database(db, thread):
    invoice = thread["invoice"].public_id
    add_comment(db, thread["customer"], invoice, "Please check\x00 line 2")
    [comment] = list_comments(db, thread["customer"], invoice)
    assert comment.body == "Please check\ufffd line 2"
