"""Whose language the portal is speaking right now, and how a reader's language is chosen.

A NiceGUI process serves many browsers at once, so the language is never a process global: it is a
contextvar, set for each HTTP request (``api.language``), for an e-mail or PDF made for one customer
(``using_language``), and found for a page's event handlers through a resolver the page layer
installs (``set_resolver``): the handlers of an open page run outside its request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, TypeVar

from babel import negotiate_locale
from babel.core import Locale, UnknownLocaleError

from services.i18n.catalogues import available_languages

DEFAULT_LANGUAGE = "en"
# Scripts written right to left; a catalogue for one of these turns the layout round (``direction``).
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur", "yi", "ps", "sd", "ug", "dv", "ckb"})
T = TypeVar("T")


@dataclass(frozen=True)
class Reader:
    """Who the portal is writing for: their language, their time zone and the business's locale."""

    language: str = DEFAULT_LANGUAGE
    time_zone: str = "UTC"  # an IANA name
    business_locale: str = "en_US"
    # Whether the language is the reader's own (chosen, or their browser's) rather than the business's
    # default: only a reader's own language changes how numbers and dates are written.
    own_language: bool = True


_current: ContextVar[Reader | None] = ContextVar("portal_reader", default=None)
_resolver: Callable[[], Reader | None] | None = None


def current_reader() -> Reader:
    """Whoever the portal is answering now; an English reader in UTC when nobody in particular."""
    reader = _current.get()
    if reader is None and _resolver is not None:
        reader = _resolver()
    return reader or Reader()


def current_language() -> str:
    """The language of whoever the portal is answering now."""
    return current_reader().language


def current_time_zone() -> str:
    """The time zone (IANA name) of whoever the portal is answering now."""
    return current_reader().time_zone


def known_language(language: str | None) -> str:
    """``language`` if the portal has a catalogue for it, else the default language."""
    return language if language and language in available_languages() else DEFAULT_LANGUAGE


@contextmanager
def using_language(language: str, *, time_zone: str | None = None) -> Iterator[Reader]:
    """Write for a reader of ``language`` (and ``time_zone``) until the block ends: an e-mail, a PDF."""
    before = current_reader()
    reader = replace(before, language=known_language(language), time_zone=time_zone or before.time_zone)
    token = _current.set(reader)
    try:
        yield reader
    finally:
        _current.reset(token)


def set_reader(reader: Reader) -> Token[Reader | None]:
    """Write for ``reader`` for the rest of this context (an HTTP request's, set once at its start)."""
    return _current.set(replace(reader, language=known_language(reader.language)))


def reset_reader(token: Token[Reader | None]) -> None:
    """Undo ``set_reader``."""
    _current.reset(token)


def carried(func: Callable[..., T]) -> Callable[..., T]:
    """``func`` run for the reader of the moment, wherever it runs: a worker thread has no context of ours."""
    reader = current_reader()

    def run(*args: Any, **kwargs: Any) -> T:
        token = _current.set(reader)
        try:
            return func(*args, **kwargs)
        finally:
            _current.reset(token)

    return run


def set_resolver(resolver: Callable[[], Reader | None]) -> None:
    """Where to find the reader when no context set one: for NiceGUI, the open page's own request."""
    global _resolver
    _resolver = resolver


def negotiate(accept_language: str | None) -> str | None:
    """The best of the portal's languages for a browser's ``Accept-Language`` header, if any fits."""
    if not accept_language:
        return None
    wanted: list[tuple[float, str]] = []
    for part in accept_language.split(",")[:20]:  # a header is the browser's; a long one is not
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and tag != "*" and quality > 0:
            wanted.append((quality, tag.replace("_", "-")))
    wanted.sort(key=lambda item: -item[0])  # stable: equal weights keep the browser's order
    found = negotiate_locale([tag for _q, tag in wanted], list(available_languages()), sep="-")
    return found if found in available_languages() else None


def pick_language(chosen: str | None, accept_language: str | None, business_default: str | None) -> str:
    """The reader's language: their own choice, else their browser's, else the business's default."""
    for candidate in (chosen, negotiate(accept_language), business_default):
        if candidate and candidate in available_languages():
            return candidate
    return DEFAULT_LANGUAGE


def formatting_locale(business_locale: str | None = None, language: str | None = None) -> str:
    """The locale that numbers, amounts and dates are written in for a reader of ``language``.

    The business's own locale when the reader speaks its language (a ``fr_CA`` business writes
    ``378,00 $`` for its French readers); otherwise the reader's language in the business's country
    where Babel knows that pair (``en_CA``), else the language alone (``de``: ``378,00 $``), so the
    month names and separators always match the words around them.
    """
    reader = _current.get()
    if reader is None and _resolver is not None:
        reader = _resolver()
    if reader is None and language is None:
        # Nobody in particular (a background job, a service called directly): as the business writes.
        return business_locale or Reader().business_locale
    reader = reader or Reader()
    if language is None and not reader.own_language:
        return business_locale or reader.business_locale
    return _formatting_locale(business_locale or reader.business_locale, language or reader.language)


@cache
def _formatting_locale(business_locale: str, language: str) -> str:
    try:
        business = Locale.parse(business_locale)
    except (ValueError, UnknownLocaleError):
        return language
    if business.language == language:
        return business_locale
    if business.territory:
        paired = f"{language}_{business.territory}"
        try:
            Locale.parse(paired)
        except (ValueError, UnknownLocaleError):
            return language
        return paired
    return language


def html_lang(language: str | None = None) -> str:
    """The BCP 47 tag for ``<html lang>`` (and for a PDF's language)."""
    return (language or current_language()).replace("_", "-")


def direction(language: str | None = None) -> str:
    """``rtl`` for a language written right to left, else ``ltr``."""
    base = (language or current_language()).split("_")[0].split("-")[0]
    return "rtl" if base in RIGHT_TO_LEFT else "ltr"
