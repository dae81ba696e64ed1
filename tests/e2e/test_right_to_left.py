"""In Chromium: the layout turns round for a language written right to left.

No catalogue is written right to left yet, so the page is switched the way such a catalogue would
switch it: Quasar's language pack says ``rtl`` (``components.language`` serves the reader's pack, and
Arabic's says so), Quasar sets ``dir="rtl"`` on the page, and everything laid out with logical
spacing (``ms-``/``me-``, ``text-end``, ``rounded-e-``) or by Quasar mirrors: the sidebar moves to
the right, its entries' rounded end and margin to the left.
"""

from __future__ import annotations

import pytest

from components.language import quasar_language
from services.i18n import direction
from tests.e2e.test_sign_in_journey import sign_in

pytestmark = pytest.mark.e2e
WIDTH = 1280


def layout(page) -> dict:
    return page.evaluate(
        """() => {
            const drawer = document.querySelector('.q-drawer').getBoundingClientRect();
            const page = getComputedStyle(document.querySelector('.q-page-container'));
            const active = document.querySelector('.q-drawer .q-item.bg-blue-1');
            const style = getComputedStyle(active);
            return {
                dir: document.documentElement.getAttribute('dir') || 'ltr',
                drawerLeft: drawer.left, drawerRight: drawer.right,
                roomLeft: parseFloat(page.paddingLeft), roomRight: parseFloat(page.paddingRight),
                marginLeft: parseFloat(style.marginLeft), marginRight: parseFloat(style.marginRight),
                roundTopLeft: parseFloat(style.borderTopLeftRadius),
                roundTopRight: parseFloat(style.borderTopRightRadius),
            };
        }"""
    )


def test_a_right_to_left_language_mirrors_the_layout(demo_portal, browser):
    assert (direction("ar"), quasar_language("ar")) == ("rtl", "ar")  # what an Arabic catalogue would get
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    sign_in(page, demo_portal.url)
    page.wait_for_selector("text=Outstanding Invoices")

    ltr = layout(page)
    assert ltr["dir"] == "ltr"
    assert ltr["drawerLeft"] == 0  # the sidebar on the left, and the page's room for it
    assert (ltr["roomLeft"], ltr["roomRight"]) == (ltr["drawerRight"], 0)
    assert (ltr["marginLeft"], ltr["marginRight"]) == (0, 12)
    assert ltr["roundTopRight"] > 0
    assert ltr["roundTopLeft"] == 0

    # What Quasar does with a right-to-left language pack (Arabic's, Hebrew's): the same words, turned round.
    page.evaluate("() => Quasar.Lang.set({...Quasar.Lang.__qLang, rtl: true})")
    page.wait_for_function("() => document.documentElement.getAttribute('dir') === 'rtl'")
    page.wait_for_timeout(300)  # Quasar's layout moves the drawer and the page's padding on its next tick

    rtl = layout(page)
    assert rtl["drawerRight"] == WIDTH  # the sidebar on the right, and the page's room for it
    assert (rtl["roomLeft"], rtl["roomRight"]) == (0, WIDTH - rtl["drawerLeft"])
    assert (rtl["marginLeft"], rtl["marginRight"]) == (12, 0)  # me-3: the margin at the end, now the left
    assert rtl["roundTopLeft"] > 0  # rounded-e-full: the rounded end, now the left
    assert rtl["roundTopRight"] == 0
    context.close()
