"""Languages: the portal's words in the reader's language, and who the reader is at this moment.

Every user-facing string goes through ``_`` (or ``ngettext``, or ``lazy_gettext`` / ``N_`` for text
made at import time), looked up in the Babel catalogues under ``locales/`` (``catalogues``). Which
language that is follows the reader (``language``): a contextvar set for an HTTP request, for an
e-mail or PDF made for a customer (``using_language``), and for a NiceGUI page's handlers through the
page's own request; never a process-wide setting, since one process serves many readers at once.
"""

from services.i18n.catalogues import available_languages, language_name
from services.i18n.language import (
    DEFAULT_LANGUAGE,
    Reader,
    carried,
    current_language,
    current_reader,
    current_time_zone,
    direction,
    formatting_locale,
    html_lang,
    known_language,
    negotiate,
    pick_language,
    reset_reader,
    set_reader,
    set_resolver,
    using_language,
)
from services.i18n.messages import N_, _, lazy_gettext, lazy_ngettext, ngettext, pgettext

__all__ = [
    "DEFAULT_LANGUAGE",
    "N_",
    "Reader",
    "_",
    "available_languages",
    "carried",
    "current_language",
    "current_reader",
    "current_time_zone",
    "direction",
    "formatting_locale",
    "html_lang",
    "known_language",
    "language_name",
    "lazy_gettext",
    "lazy_ngettext",
    "negotiate",
    "ngettext",
    "pgettext",
    "pick_language",
    "reset_reader",
    "set_reader",
    "set_resolver",
    "using_language",
]
