"""The language mechanism: who the reader is, and how their language is chosen."""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.support import NullTranslations

from services import i18n
from services.dates import format_moment
from services.gateways import sandbox, stripe_gateway
from services.i18n import Reader, catalogues, current_reader, pick_language, using_language
from services.i18n.terms import term


def test_nobody_in_particular_reads_english_in_utc() -> None:
    assert current_reader() == Reader("en", "UTC", "en_US")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-CH,de;q=0.9,en;q=0.8", "de"),
        ("fr-CA", "fr"),
        ("en-GB,fr;q=0.5", "en"),
        ("it,es;q=0.3", "es"),
        ("pt-BR", None),
        ("*", None),
        ("", None),
        ("xx;q=abc, fr", "fr"),
    ],
)
def test_a_browser_gets_the_best_language_the_portal_has(header: str, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


def test_a_persons_own_choice_beats_their_browser_which_beats_the_business() -> None:
    assert pick_language("es", "de", "fr") == "es"
    assert pick_language("", "de", "fr") == "de"
    assert pick_language("", "pt-BR", "fr") == "fr"
    assert pick_language("xx", None, "zz") == "en"


def test_using_a_language_lasts_for_its_block_only() -> None:
    with using_language("de", time_zone="Europe/Berlin") as reader:
        assert reader.language == "de"
        assert i18n.current_language() == "de"
        assert i18n.current_time_zone() == "Europe/Berlin"
        with using_language("xx"):
            assert i18n.current_language() == "en"  # no catalogue: the default, not an unknown code
        assert i18n.current_language() == "de"
    assert i18n.current_language() == "en"


async def test_each_task_has_its_own_reader() -> None:
    seen: dict[str, str] = {}

    async def read_as(language: str) -> None:
        with using_language(language):
            await asyncio.sleep(0.01)  # the other task runs meanwhile
            seen[language] = i18n.current_language()

    await asyncio.gather(read_as("de"), read_as("fr"))
    assert seen == {"de": "de", "fr": "fr"}


def test_carried_work_keeps_the_reader_in_another_thread() -> None:
    seen: list[str] = []
    with using_language("fr"):
        work = i18n.carried(lambda: seen.append(i18n.current_language()))
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert seen == ["fr"]


def test_a_catalogue_asked_for_by_many_threads_at_once_is_compiled_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled: list[str] = []
    compile_once = catalogues._compile

    def slow_compile(language: str) -> NullTranslations:
        compiled.append(language)
        time.sleep(0.05)  # long enough for every thread to ask while the first compiles
        return compile_once(language)

    monkeypatch.setattr(catalogues, "_compile", slow_compile)
    monkeypatch.setattr(catalogues, "_COMPILED", {})
    start = threading.Barrier(8)
    found: list[NullTranslations] = []

    def ask() -> None:
        start.wait()
        found.append(catalogues.translations("de"))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert compiled == ["de"]
    assert len({id(each) for each in found}) == 1
    assert found[0].gettext("Pay Now") != "Pay Now"  # the German catalogue, not an empty one


def test_the_portal_compiles_every_catalogue_as_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalogues, "_COMPILED", {})
    compiled: list[str] = []
    compile_once = catalogues._compile

    def compile_counted(language: str) -> NullTranslations:
        compiled.append(language)
        return compile_once(language)

    monkeypatch.setattr(catalogues, "_compile", compile_counted)
    catalogues.preload_catalogues()
    assert compiled == list(catalogues.available_languages())
    assert {"en", "de", "fr", "es"} <= set(compiled)
    assert catalogues.translations("fr").gettext("Pay Now") != "Pay Now"
    assert compiled == list(catalogues.available_languages())  # the first page or e-mail compiles nothing


def test_a_reader_who_shares_the_business_language_gets_its_locale() -> None:
    assert i18n.formatting_locale("fr_CA", "fr") == "fr_CA"
    assert i18n.formatting_locale("fr_CA", "en") == "en_CA"  # English as written in Canada
    assert i18n.formatting_locale("en_US", "de") == "de"  # Babel has no German of the US
    assert i18n.formatting_locale("nonsense", "es") == "es"


def test_moments_are_shown_in_the_readers_time_zone() -> None:
    moment = datetime(2026, 7, 22, 12, 5, tzinfo=UTC)
    assert format_moment(moment, "de_DE", "Europe/Berlin") == "22.07.2026, 14:05"
    naive = moment.replace(tzinfo=None)  # as the database keeps moments: UTC
    assert format_moment(naive, "en_US", "America/New_York") == "Jul 22, 2026, 8:05\u202fAM"
    assert format_moment(moment, "en_US", "Not/AZone") == "Jul 22, 2026, 12:05\u202fPM"


def test_right_to_left_languages_turn_the_layout_round() -> None:
    assert i18n.direction("ar") == "rtl"
    assert i18n.direction("he-IL") == "rtl"
    assert i18n.direction("de") == "ltr"


def test_a_business_default_language_keeps_the_business_way_of_writing() -> None:
    """A reader who chose nothing and whose browser asked for nothing we have reads the business's
    default language; numbers and dates then stay as the business writes them."""
    token = i18n.set_reader(Reader("en", "UTC", "de_DE", own_language=False))
    try:
        assert i18n.formatting_locale() == "de_DE"
    finally:
        i18n.reset_reader(token)
    token = i18n.set_reader(Reader("en", "UTC", "de_DE", own_language=True))
    try:
        assert i18n.formatting_locale() == "en_DE"  # the reader's own English, as written in Germany
    finally:
        i18n.reset_reader(token)


def test_messages_and_countries_come_in_the_readers_language() -> None:
    from services.dashboard import country_name

    with using_language("de"):
        assert (i18n._("Invoice"), i18n._("Credit note"), country_name("US")) == (
            "Rechnung",
            "Gutschrift",
            "Vereinigte Staaten",
        )
    with using_language("fr"):
        assert (i18n._("Credit note"), i18n._("Statement of Accounts")) == ("Avoir", "Relevé de compte")
    with using_language("es"):
        assert i18n.ngettext("{count} invoice", "{count} invoices", 3).format(count=3) == "3 facturas"
    assert i18n._("Invoice") == "Invoice"


def test_a_moments_day_is_the_readers_day() -> None:
    from services.dates import format_day

    # UTC without a zone, as the database keeps it: already the 23rd in Auckland
    late_evening = datetime(2026, 7, 22, 20, 0, tzinfo=UTC).replace(tzinfo=None)
    with using_language("en", time_zone="Pacific/Auckland"):
        assert format_day(late_evening) == "Jul 23, 2026"
    assert format_day(late_evening) == "Jul 22, 2026"


def test_every_refusal_the_gateways_write_is_shown_in_the_readers_language() -> None:
    # Their messages reach the page as data (InvalidPaymentDetails.message), shown with ``term``.
    written = set()
    for gateway in (stripe_gateway, sandbox):
        source = Path(inspect.getfile(gateway)).read_text()
        written |= set(re.findall(r'InvalidPaymentDetails\(\s*"\w+",\s*"([^"]+)"', source))
    written |= {message for message in stripe_gateway.NOTHING_DONE.values()}
    assert len(written) > 20

    with using_language("de"):
        untranslated = sorted(message for message in written if term(message) == message)
    assert untranslated == []
