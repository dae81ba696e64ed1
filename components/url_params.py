"""The one way pages read their address's query parameters: whatever was typed or pasted there, reading
it never raises, and a value a page cannot use means the page's default.

A number is ASCII digits within the page's bounds (``'²'.isdigit()`` is true, yet ``int('²')`` raises;
twenty digits overflow the database's integers); a choice is one of the page's choices (never an
attribute name such as ``__class__``); free text loses control and format characters and is cut to a
length its field holds. A repeated parameter counts once, the last as Starlette reads it. A NUL anywhere
in an address never gets here: ``api.url_guard`` answers it 400 first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import Any

from services.paging import MAX_PAGE

MAX_TEXT = 200
_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")
_INVISIBLE = ("Cc", "Cf", "Cs")  # controls, format characters (bidi overrides), lone surrogates


class UrlParams:
    """Typed readers over a request's ``query_params`` (or any mapping of names to strings)."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self._params = params

    def text(self, name: str, default: str = "", *, max_length: int = MAX_TEXT) -> str:
        """Free text, such as a search: without invisible characters, at most ``max_length`` long."""
        value = self._params.get(name)
        return default if value is None else visible_text(value)[:max_length]

    def choice(self, name: str, choices: Collection[str], default: str) -> str:
        """One of ``choices`` (compared as typed), else ``default``."""
        value = self._params.get(name)
        return value if value is not None and value in choices else default

    def number(self, name: str, default: int, *, lowest: int = 1, highest: int = MAX_PAGE) -> int:
        """A whole number from ``lowest`` to ``highest``, else ``default``."""
        return whole_number(self._params.get(name), default, lowest=lowest, highest=highest)

    def flag(self, name: str, *, default: bool) -> bool:
        """``1`` is yes and ``0`` no; absent or anything else, ``default``."""
        return {"1": True, "0": False}.get(self._params.get(name) or "", default)

    def given(self, name: str) -> bool:
        """Whether the parameter is there with any value but an empty one (``?record=1``)."""
        return bool(self._params.get(name))


def whole_number(value: Any, default: int, *, lowest: int = 1, highest: int = MAX_PAGE) -> int:
    """``value`` (an int, or a string of ASCII digits) when it lies from ``lowest`` to ``highest``, else
    ``default``; for URLs and for what a browser's table sends alike."""
    if isinstance(value, bool):
        return default
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
        value = int(value)
    return value if isinstance(value, int) and lowest <= value <= highest else default


def visible_text(value: str) -> str:
    """``value`` without control and format characters, which no one means to search for or see."""
    if value.isascii() and value.isprintable():
        return value
    return "".join(char for char in value if unicodedata.category(char) not in _INVISIBLE)
