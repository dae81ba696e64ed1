"""Home shows the accounting core's figures for the signed-in customer, and nobody else's."""

from __future__ import annotations

from sqlalchemy import select

from components.markup import Markup
from models import CreditNote
from services import portal
from services.dates import format_day
from services.demo import CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL
from services.money import Money, format_money
from tests.ui.conftest import balances_of, open_home, post_login


async def test_home_shows_the_four_figures_of_the_accounting_core(user):
    await post_login(user)
    await user.open("/")
    balances = balances_of(CUSTOMER_EMAIL)
    assert balances.outstanding.minor > 0
    assert balances.available_credits.minor > 0
    assert balances.available_retainer.minor > 0
    assert balances.last_payment is not None
    for label in (
        "Outstanding Invoices",
        "Available Credits",
        "Available Retainer Payments",
        "Last Payment Made",
    ):
        await user.should_see(label)
    await user.should_see(format_money(balances.outstanding))
    await user.should_see(format_money(balances.available_credits))
    await user.should_see(format_money(balances.available_retainer))
    await user.should_see(format_money(balances.last_payment.amount))
    await user.should_see(f"On {format_day(balances.last_payment.received_at)}")


async def test_home_shows_my_account_details_and_the_business_contact(user):
    await post_login(user)
    await user.open("/")
    await user.should_see("My Account Details")
    for text in (
        "Bluebird Cafe LLC",
        CUSTOMER_EMAIL,
        "+1 415 555 0123",
        "18 Harbor Road",
        "Oakland, CA 94607",
    ):
        await user.should_see(text)
    for text in (
        "500 Market Street",
        "San Francisco, CA 94105",
        "+1 415 555 0142",
        "hello@northwind.example",
        "https://northwind.example",
    ):
        await user.should_see(text)


async def test_the_second_customer_sees_only_their_own_figures_in_their_currency(user):
    await post_login(user, email=OTHER_CUSTOMER_EMAIL)
    await user.open("/")
    mine = balances_of(OTHER_CUSTOMER_EMAIL)
    theirs = balances_of(CUSTOMER_EMAIL)
    await user.should_see(format_money(mine.outstanding))
    assert mine.outstanding.currency == "EUR"
    await user.should_not_see(format_money(theirs.outstanding))
    await user.should_not_see("Bluebird Cafe LLC")
    await user.should_see("Kowalski Translations GmbH")


async def test_a_demo_portal_says_so(user):
    await post_login(user)
    await user.open("/")
    await user.should_see("Demo portal: sample data for trying things out. No real money moves.")


async def test_the_sidebar_offers_home_and_logout(user):
    await post_login(user)
    await user.open("/")
    await user.should_see("Home")
    await user.should_see("Logout")


async def test_the_sidebar_links_every_page_and_marks_the_one_open(user):
    await post_login(user)
    await user.open("/statement")
    await user.should_see("Statement of Accounts")
    navigation = [element for element in user.find(Markup).elements if element.content.startswith("<nav")]
    assert len(navigation) == 1  # one element for all of it, not one per entry
    html = navigation[0].content
    for path in ("/", "/invoices", "/quotes", "/payments", "/statement", "/password"):
        assert f'href="{path}"' in html
    assert html.count('aria-current="page"') == 1
    assert 'href="/statement" aria-current="page"' in html


def shown_html(user) -> str:
    """What the page's Markup elements write (the detail cards and figures), as one text."""
    return "".join(element.content for element in user.find(Markup).elements)


async def test_the_business_phone_email_and_website_are_links(user):
    await post_login(user)
    await open_home(user)
    html = shown_html(user)
    assert '<a href="tel:+14155550142" class="text-primary">+1 415 555 0142</a>' in html  # dialled in E.164
    assert (
        '<a href="mailto:hello@northwind.example" class="text-primary">hello@<wbr>northwind<wbr>.example'
        in html
    )
    assert '<a href="https://northwind.example" class="text-primary" target="_blank" rel="noopener">' in html
    assert "(opens in a new tab)" in html
    await user.should_see("hello@northwind.example")  # the words as people read them


async def test_long_addresses_wrap_between_their_parts(user):
    await post_login(user)
    await open_home(user)
    html = shown_html(user)
    # The company e-mail in My Account Details is text, not a link, and wraps the same way.
    assert ">accounts@<wbr>bluebird<wbr>.example</div>" in html
    assert "Bluebird Cafe LLC" in html  # other words are left whole


async def test_each_credit_note_with_credit_left_links_to_its_page(user):
    await post_login(user)
    await open_home(user)
    with portal.current().db.reading() as session:
        note = session.scalars(select(CreditNote).where(CreditNote.number == "CN-00001")).one()
    left = format_money(Money(note.remaining_minor, note.currency))
    await user.should_see(f"Credit note CN-00001: {left} left")
    assert (
        f'<a href="/credit-notes/{note.public_id}" class="text-primary">Credit note CN-00001: {left} left</a>'
        in (shown_html(user))
    )
