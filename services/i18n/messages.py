"""The gettext functions every module imports: ``_``, ``ngettext``, ``pgettext`` and lazy variants.

Each looks the message up in the current reader's catalogue at the moment it is called. Text made at
import time (a module's constants, a navigation list) is marked with ``N_`` and translated where it is
shown, or made with ``lazy_gettext``, which translates each time it is turned into a string.
"""

from __future__ import annotations

from babel.support import LazyProxy

from services.i18n.catalogues import translations
from services.i18n.language import current_language


def _(message: str) -> str:
    """``message`` in the current reader's language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, by the rules of the current reader's language."""
    return str(translations(current_language()).ngettext(singular, plural, n))


def pgettext(context: str, message: str) -> str:
    """``message`` where the same English word needs different translations (``context`` tells which)."""
    return str(translations(current_language()).pgettext(context, message))


def N_(message: str) -> str:  # noqa: N802 - the name gettext tools look for
    """Mark ``message`` for the catalogues without translating it: it is translated where it is shown."""
    return message


def lazy_gettext(message: str) -> str:
    """``_`` put off until the text is used; for module-level text shown to many readers."""
    # LazyProxy behaves as the str it produces; typed as str so callers need no casts.
    return LazyProxy(_, message, enable_cache=False)  # type: ignore[return-value]


def lazy_ngettext(singular: str, plural: str, n: int) -> str:
    """``ngettext`` put off until the text is used."""
    return LazyProxy(ngettext, singular, plural, n, enable_cache=False)  # type: ignore[return-value]
