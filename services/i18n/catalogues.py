"""The catalogues under ``locales/<language>/LC_MESSAGES/messages.po``, compiled in memory when first used.

Only the ``.po`` files are kept in the repository: Babel (a runtime dependency already) compiles one
in a few milliseconds, so a fresh clone runs without a build step and a compiled file can never be
older than its source. ``pybabel compile`` still works for anyone who wants ``.mo`` files; they are
ignored here and by git.
"""

from __future__ import annotations

import threading
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.core import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"  # the language the code is written in; its catalogue only confirms the words


def catalogue_path(language: str, locales_dir: Path = LOCALES_DIR) -> Path:
    """Where a language's catalogue is kept."""
    return locales_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def available_languages() -> tuple[str, ...]:
    """The languages with a catalogue, English first, then by code."""
    found = {path.parent.parent.name for path in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    found.add(SOURCE_LANGUAGE)
    return (SOURCE_LANGUAGE, *sorted(found - {SOURCE_LANGUAGE}))


_COMPILING = threading.Lock()
_COMPILED: dict[str, NullTranslations] = {}


def translations(language: str) -> NullTranslations:
    """The compiled catalogue of ``language``; the words as written in the code if it has none.

    Compiled once per process: the first pages and e-mails after a start come at once (a month-end
    burst, a queue of payments), and each would otherwise compile the same catalogue again.
    """
    compiled = _COMPILED.get(language)
    if compiled is None:
        with _COMPILING:
            compiled = _COMPILED.get(language)
            if compiled is None:
                compiled = _COMPILED[language] = _compile(language)
    return compiled


def preload_catalogues() -> None:
    """Compile every catalogue now (about 0.1 s each), so that the first pages and e-mails after a start
    do not all wait for it: the portal calls this as it starts."""
    for language in available_languages():
        translations(language)


def _compile(language: str) -> NullTranslations:
    path = catalogue_path(language)
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def language_name(language: str) -> str:
    """The language's name in itself (``Deutsch``, ``français``), as a language menu shows it."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]
