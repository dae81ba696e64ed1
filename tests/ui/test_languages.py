"""The portal in the reader's language: the sign-in page follows the browser, a customer's own choice
beats the browser, and what a page's handlers say (refusals, notices) is in the page's language."""

from __future__ import annotations

import asyncio
from io import BytesIO

from nicegui.elements.mixins.value_element import ValueElement
from nicegui.testing import User
from pypdf import PdfReader
from sqlalchemy import select

from models import PortalUser
from services import portal
from services.demo import CUSTOMER_EMAIL
from services.language_settings import Preferences, set_customer_preferences
from services.principal import Principal
from tests.ui.conftest import post_login


def speak(user: User, accept_language: str) -> None:
    """The simulated browser's languages, as its Accept-Language header."""
    user.http_client.headers["accept-language"] = accept_language


def customer() -> Principal:
    with portal.current().db.reading() as session:
        row = session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()
        return Principal(row.id, row.client_id, 1, row.name, row.email, 0)


async def test_the_sign_in_page_follows_the_browser(user: User) -> None:
    speak(user, "de-CH,de;q=0.9,en;q=0.5")
    await user.open("/login")
    await user.should_see("Passwort vergessen?")
    page = await user.http_client.get("/login")
    assert '<html lang="de"' in page.text  # and Quasar's German words come with it
    assert "/static/lang/de.umd.prod.js" in page.text

    speak(user, "fr-FR,fr;q=0.9")
    await user.open("/login")
    await user.should_see("Mot de passe oublié ?")


async def test_an_unknown_browser_language_gets_english(user: User) -> None:
    speak(user, "pt-BR,pt;q=0.9")
    await user.open("/login")
    await user.should_see("Forgot password?")
    page = await user.http_client.get("/login")
    assert '<html lang="en-US"' in page.text


async def test_home_speaks_the_browsers_language_with_the_seeds_labels(user: User) -> None:
    speak(user, "es-ES,es;q=0.9")
    await post_login(user)
    await user.open("/")
    for label in ("Facturas pendientes", "Saldo a favor disponible", "Anticipos disponibles", "Pagar ahora"):
        await user.should_see(label, retries=40)
    await user.should_see("Estado de cuenta")  # the sidebar


async def test_a_customers_own_choice_beats_the_browser(user: User) -> None:
    set_customer_preferences(portal.current().db, customer(), Preferences("fr", "Europe/Paris"))
    speak(user, "de")
    await post_login(user)
    await user.open("/")
    await user.should_see("Factures impayées", retries=40)
    await user.should_see("Relevé de compte")


async def test_what_a_handler_says_is_in_the_pages_language(user: User) -> None:
    """A refusal is worded after the page was drawn, by a handler outside the page's request."""
    speak(user, "de")
    await post_login(user)
    await user.open("/")
    await user.should_see("Offene Rechnungen", retries=40)
    user.find("E-Mail senden").click()
    for element in user.find(marker="email-subject").elements:
        assert isinstance(element, ValueElement)
        element.value = "Frage zur Rechnung"
    user.find(marker="email-send").click()
    await user.should_see("Bitte füllen Sie „Nachricht“ aus.", retries=40)


async def test_the_statement_pdf_is_in_the_readers_language(user: User) -> None:
    speak(user, "fr")
    await post_login(user)
    response = await user.http_client.get("/statement/pdf?period=this_year&download=1")
    assert response.status_code == 200
    first = PdfReader(BytesIO(response.content)).pages[0].extract_text()
    for words in ("Relevé de compte", "Solde reporté", "RÉCAPITULATIF DU COMPTE"):
        assert words in first


async def test_a_customer_chooses_a_language_in_update_account_details(user: User) -> None:
    speak(user, "en")
    await post_login(user)
    await user.open("/")
    await user.should_see("My Account Details", retries=40)
    user.find(marker="edit-account-details").click()
    await user.should_see("Update Account Details")
    for marker, value in (("account-language", "es"), ("account-time-zone", "Europe/Madrid")):
        for element in user.find(marker=marker).elements:
            assert isinstance(element, ValueElement)
            element.value = value
    user.find(marker="account-save").click()
    for _attempt in range(100):
        with portal.current().db.reading() as session:
            row = session.execute(
                select(PortalUser.language, PortalUser.time_zone).where(PortalUser.email == CUSTOMER_EMAIL)
            ).one()
        if row.language == "es":
            break
        await asyncio.sleep(0.05)
    assert (row.language, row.time_zone) == ("es", "Europe/Madrid")
    await user.open("/")  # the saved choice beats the browser's English from now on
    await user.should_see("Facturas pendientes", retries=40)
