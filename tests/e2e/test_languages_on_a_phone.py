"""In Chromium at a phone's width: Home, Pay and the Statement of Accounts in German and French.

The browser asks for the language (Accept-Language, as a phone set to German does); each page shows
its words in it and nothing is wider than the screen (long German words such as
"Vorauszahlungsrechnung" must wrap or shrink, not push the page sideways). With
``PORTAL_SCREENSHOTS=<folder>`` each page is also saved there, to be looked at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.accessibility import settle
from tests.e2e.test_sign_in_journey import sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
WORDS = {
    "de": {"home": "Offene Rechnungen", "pay": "Was Sie bezahlen", "statement": "Saldovortrag"},
    "fr": {"home": "Factures impayées", "pay": "Ce que vous payez", "statement": "Solde reporté"},
}

OVERFLOW = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')].filter(element => {
        const box = element.getBoundingClientRect();
        const outside = box.width > 0 && (box.right > width + 1 || box.left < -1);
        return outside && getComputedStyle(element).position !== 'fixed'
            && !element.closest('.q-drawer, .q-table__middle, [aria-hidden=true]');
    });
    return {scroll: document.documentElement.scrollWidth, width,
            wide: wide.slice(0, 5).map(
                element => `${element.tagName} ${(element.textContent || '').trim().slice(0, 40)}`)};
}"""


def fits(page) -> None:
    measured = page.evaluate(OVERFLOW)
    assert measured["scroll"] <= measured["width"], measured
    assert not measured["wide"], measured


def keep(page, language: str, name: str) -> None:
    folder = os.environ.get("PORTAL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}-{language}-390.png"), full_page=True)


@pytest.mark.parametrize("language", ["de", "fr"])
def test_home_pay_and_statement_fit_a_phone_in_german_and_french(demo_portal, browser, language):
    context = browser.new_context(viewport=PHONE, locale=language, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    sign_in(page, demo_portal.url)
    words = WORDS[language]
    page.wait_for_selector(f"text={words['home']}")
    settle(page)
    assert page.locator("html").get_attribute("lang") == language
    fits(page)
    keep(page, language, "home")

    page.goto(f"{demo_portal.url}/pay")
    page.wait_for_selector(f"text={words['pay']}")
    settle(page)
    fits(page)
    keep(page, language, "pay")

    page.goto(f"{demo_portal.url}/statement")
    page.wait_for_selector(f"text={words['statement']}")
    settle(page)
    fits(page)
    keep(page, language, "statement")
    context.close()
