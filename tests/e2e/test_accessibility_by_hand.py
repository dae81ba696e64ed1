"""What axe-core cannot see, checked in Chromium: headings, focus, the skip link, dialogs, the phone
drawer, sortable headers, badges, names without icon words, labelled fields and errors tied to them."""

from __future__ import annotations

import itertools
import re

import pytest

from tests.e2e.accessibility import DESKTOP, PHONE, settle, sign_in_customer, sign_in_owner

pytestmark = pytest.mark.e2e

CUSTOMER_PAGES = ["/", "/invoices", "/payments", "/statement", "/password", "/pay"]
OWNER_PAGES = ["/admin", "/admin/invoices", "/admin/settings/documents"]

CONTROLS = "button|link|radio|menuitem|tab|checkbox|combobox|textbox"  # roles in an aria snapshot
HEADINGS = "() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => Number(h.tagName[1]))"

# The background behind an element: the first ancestor's colour that is not transparent.
BACKGROUND = """(element) => {
    for (let node = element; node; node = node.parentElement) {
        const colour = getComputedStyle(node).backgroundColor;
        if (colour && colour !== 'transparent' && !colour.endsWith(', 0)')) return colour;
    }
    return 'rgb(255, 255, 255)';
}"""
FOCUS_RING = """(element) => {
    const style = getComputedStyle(element);
    return {
        tag: element.tagName + '.' + element.className,
        style: style.outlineStyle, width: parseFloat(style.outlineWidth), colour: style.outlineColor,
        shadow: style.boxShadow,
        field: element.closest('.q-field') ? element.closest('.q-field').className : null,
    };
}"""


def luminance(colour: str) -> float:
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", colour)[:3])

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.fixture(scope="module")
def customer(demo_portal, browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in_customer(page, demo_portal.url)
    yield page
    context.close()


def test_every_page_has_one_h1_first_and_no_level_skipped(demo_portal, browser, customer):
    owner_context = browser.new_context(viewport=DESKTOP)
    owner = owner_context.new_page()
    sign_in_owner(owner, demo_portal.url)
    for page, paths in ((customer, CUSTOMER_PAGES), (owner, OWNER_PAGES)):
        for path in paths:
            page.goto(f"{demo_portal.url}{path}")
            settle(page)
            levels = page.evaluate(HEADINGS)
            assert levels.count(1) == 1, (path, levels)
            assert levels[0] == 1, (path, levels)
            assert all(later <= earlier + 1 for earlier, later in itertools.pairwise(levels)), (path, levels)
    owner_context.close()


# Home's outline: the page's title, then each card's title as a section under it.
HOME_OUTLINE = [
    [1, "Home"],
    [2, "Outstanding Invoices"],
    [2, "Available Credits"],
    [2, "Available Retainer Payments"],
    [2, "Last Payment Made"],
    [2, "My Account Details"],
    [2, "Addresses"],
    [2, "Card Details"],
    [2, "Northwind Design Studio"],  # the business's card: its name
]
OUTLINE = """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
    .map(h => [Number(h.tagName[1]), h.textContent.trim()])"""


def test_home_s_cards_are_sections_under_its_title(demo_portal, customer):
    customer.goto(f"{demo_portal.url}/")
    settle(customer)
    customer.locator("[data-testid=business-details]").wait_for()  # the cards come once it is connected
    assert customer.evaluate(OUTLINE) == HOME_OUTLINE
    outstanding = customer.get_by_role("heading", name="Outstanding Invoices", exact=True)
    assert outstanding.evaluate("h => h.closest('[data-testid]').dataset.testid") == "outstanding-invoices"


def test_the_skip_link_comes_first_and_leads_to_the_content(demo_portal, customer):
    customer.goto(f"{demo_portal.url}/invoices")
    settle(customer)
    customer.keyboard.press("Tab")
    focused = customer.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    assert customer.evaluate("() => document.activeElement.getBoundingClientRect().top >= 0")  # shown
    customer.keyboard.press("Enter")
    customer.keyboard.press("Tab")  # the first control of the page itself, past header and sidebar
    assert customer.evaluate("() => !!document.activeElement.closest('main')")
    assert not customer.evaluate("() => !!document.activeElement.closest('nav, header')")


@pytest.mark.parametrize("path", ["/", "/invoices", "/pay"])
def test_every_control_shows_its_focus_at_3_to_1(demo_portal, customer, path):
    customer.goto(f"{demo_portal.url}{path}")
    settle(customer)
    seen = 0
    for _ in range(40):
        customer.keyboard.press("Tab")
        element = customer.evaluate_handle("() => document.activeElement")
        if customer.evaluate("(element) => element === document.body", element):
            break
        ring = customer.evaluate(FOCUS_RING, element)
        seen += 1
        if ring["field"] is not None:  # a field shows focus by its 2 px primary border instead
            assert "q-field--focused" in ring["field"], ring
            continue
        background = customer.evaluate(BACKGROUND, element)
        assert ring["style"] == "solid", ring
        assert ring["width"] >= 2, ring
        # The ring is the primary colour around a white one: one of them stands out at 3:1 or more.
        assert max(contrast(ring["colour"], background), contrast("rgb(255, 255, 255)", background)) >= 3, (
            ring,
            background,
        )
        assert "255, 255, 255" in ring["shadow"], ring
    assert seen >= 5, path


def test_a_dialog_is_named_by_its_title_and_focuses_its_first_field(demo_portal, customer):
    customer.goto(f"{demo_portal.url}/")
    settle(customer)
    customer.get_by_role("button", name="Send Email").click()
    dialog = customer.get_by_role("dialog", name=re.compile(r"^Send Email to "))
    dialog.wait_for()
    customer.wait_for_function("() => document.activeElement.getAttribute('aria-label') === 'Subject'")
    customer.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    customer.get_by_role("button", name="Review").click()
    review = customer.get_by_role("dialog", name=re.compile(r"^Write a Review of "))
    review.wait_for()
    stars = review.get_by_role("radio")
    assert [stars.nth(n).get_attribute("aria-label") for n in range(5)] == [
        "1 star",
        "2 stars",
        "3 stars",
        "4 stars",
        "5 stars",
    ]
    customer.wait_for_function("() => document.activeElement.getAttribute('aria-label') === '1 star'")
    customer.keyboard.press("Escape")


# Where the focus is: the sidebar link's address, or the control's name.
FOCUSED_LINK = "() => document.activeElement.closest('nav') && document.activeElement.getAttribute('href')"
FOCUSED_NAME = "() => document.activeElement.getAttribute('aria-label')"


def test_the_phone_drawer_takes_the_focus_and_gives_it_back_to_its_button(demo_portal, browser):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in_customer(page, demo_portal.url)
    settle(page)
    menu = page.get_by_role("button", name="Open navigation")
    assert menu.get_attribute("aria-expanded") == "false"
    menu.focus()
    page.keyboard.press("Enter")
    navigation = page.get_by_role("navigation", name="Main")
    navigation.get_by_role("link", name="Invoices").wait_for()
    page.wait_for_function("() => document.querySelector('[aria-expanded=true]') !== null")
    page.wait_for_function(f"() => ({FOCUSED_LINK})() === '/'")  # its first link, Home, once it is open
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED_LINK) == "/invoices"  # on through the drawer's links
    page.keyboard.press("Escape")
    page.locator("aside.q-layout--prevent-focus").wait_for(state="attached")  # Quasar's mark of a shut drawer
    assert page.evaluate(FOCUSED_NAME) == "Open navigation"
    assert menu.get_attribute("aria-expanded") == "false"

    menu.click()  # opened by a tap, shut by a tap beside it: the focus comes back all the same
    page.wait_for_function(f"() => ({FOCUSED_LINK})() === '/'")
    page.locator(".q-drawer__backdrop").click(position={"x": 370, "y": 400})
    page.locator("aside.q-layout--prevent-focus").wait_for(state="attached")
    page.wait_for_function(f"() => ({FOCUSED_NAME})() === 'Open navigation'")
    context.close()


def test_sortable_headers_are_buttons_that_say_the_order(demo_portal, customer):
    customer.goto(f"{demo_portal.url}/invoices")
    settle(customer)
    date = customer.locator("th", has=customer.get_by_role("button", name="Date", exact=True))
    assert date.get_attribute("aria-sort") == "descending"  # newest first
    assert customer.locator("th", has_text="Number").get_attribute("aria-sort") == "none"
    number = customer.get_by_role("button", name="Number", exact=True)
    number.focus()
    customer.keyboard.press("Enter")  # a key, not a click: the header is reached and used by keyboard
    customer.wait_for_url("**sort=number**")
    customer.wait_for_function(
        "() => [...document.querySelectorAll('th')].some(th => th.getAttribute('aria-sort') === 'ascending')"
    )
    assert customer.locator("th[aria-sort=ascending]").inner_text().strip().startswith("Number")
    assert date.get_attribute("aria-sort") == "none"


def test_badges_are_not_live_regions_and_no_icon_name_is_read(demo_portal, customer):
    for path in ["/", "/invoices", "/payments"]:
        customer.goto(f"{demo_portal.url}{path}")
        settle(customer)
        assert customer.locator(".q-badge").count() or path == "/"
        assert customer.locator(".q-badge[role], [role=status]:not(.q-notification)").count() == 0, path
        icons = set(
            customer.evaluate("() => [...document.querySelectorAll('.q-icon')].map(i => i.textContent)")
        )
        snapshot = customer.locator("body").aria_snapshot()
        names = re.findall(
            r'- (?:button|link|radio|menuitem|tab|checkbox|combobox|textbox) "([^"]*)"', snapshot
        )
        leaked = {
            (name, icon) for name in names for icon in icons if icon and re.search(rf"\b{icon}\b", name)
        }
        assert not leaked, (path, leaked)


def test_fields_have_labels_and_their_errors_describe_them(demo_portal, customer):
    customer.goto(f"{demo_portal.url}/pay")
    settle(customer)
    unlabelled = customer.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), textarea, [role=combobox]')]
            .filter(field => field.offsetParent !== null)
            .filter(field => !(field.labels && field.labels.length) && !field.getAttribute('aria-label')
                             && !field.getAttribute('aria-labelledby'))
            .map(field => field.outerHTML.slice(0, 120))"""
    )
    assert unlabelled == []

    customer.goto(f"{demo_portal.url}/")
    settle(customer)
    customer.get_by_role("button", name="Edit account details").click()
    dialog = customer.get_by_role("dialog", name="Update Account Details")
    name = dialog.get_by_label("Your name")
    name.fill("")
    dialog.get_by_role("button", name="Save").click()
    customer.wait_for_function(
        "() => document.querySelector('[aria-invalid=true][aria-describedby]') !== null", timeout=10_000
    )
    field = dialog.locator("[aria-invalid=true]").first
    description = customer.locator(f"#{field.get_attribute('aria-describedby')}")
    shown = dialog.locator(".q-field--error .q-field__messages").first.inner_text().strip()
    assert shown
    assert description.text_content().strip() == shown  # the message a sighted person sees beneath it
    customer.keyboard.press("Escape")
