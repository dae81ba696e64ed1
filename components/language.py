"""A NiceGUI page speaks its reader's language: in its handlers, in ``<html lang>`` and in Quasar's words.

The reader is chosen per request (``api.language``). A page's event handlers run later, outside that
request, so the resolver installed here finds the reader again through the page's own request (each
NiceGUI client keeps the request it was built for). ``<html lang>`` and Quasar's language pack (its
own few words, and right-to-left layout for a language written that way) follow the same reader.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, cast

import nicegui
from nicegui import context
from nicegui.language import Language
from nicegui.page import page

from api.language import READER_STATE
from services.i18n import Reader, _, current_language, html_lang, set_resolver

QUASAR_FALLBACK = "en-US"  # Quasar has no plain "en" pack


def page_reader() -> Reader | None:
    """The reader of the page whose handler is running, if one is."""
    try:
        request = context.client.request
    except RuntimeError:  # not inside a page (a background task, a worker thread), or a page without one
        return None
    reader = getattr(request.state, READER_STATE, None)
    return reader if isinstance(reader, Reader) else None


@cache
def _quasar_packs() -> frozenset[str]:
    folder = Path(nicegui.__file__).parent / "static" / "lang"
    return frozenset(path.name.removesuffix(".umd.prod.js") for path in folder.glob("*.umd.prod.js"))


def quasar_language(language: str | None = None) -> str:
    """Quasar's language pack: ``de`` for German, ``en-US`` for English, ``ar`` (right to left) for Arabic."""
    tag = html_lang(language or current_language())
    base = tag.split("-")[0]
    packs = _quasar_packs()
    # The tag itself, the language alone, its home country's variant; English is Quasar's en-US.
    for candidate in (tag, base, f"{base}-{base.upper()}", QUASAR_FALLBACK if base == "en" else ""):
        if candidate in packs:
            return candidate
    return next((pack for pack in sorted(packs) if pack.startswith(base + "-")), QUASAR_FALLBACK)


def _resolve_language(self: page) -> Language:
    # Every page is drawn for one reader: its lang attribute and Quasar's pack are theirs, not the app's.
    return cast(Language, quasar_language())


def install() -> None:
    """Wire the reader into NiceGUI once, from app.py."""
    set_resolver(page_reader)
    page.resolve_language = _resolve_language  # type: ignore[method-assign]


def translated_columns(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A table's columns with their headings (marked with ``N_`` where the module defines them) in the
    reader's language: a module's column list is made once, for everybody."""
    return [{**column, "label": _(column["label"])} if column.get("label") else column for column in columns]
