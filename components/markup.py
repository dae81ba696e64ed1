"""Text that does not change once drawn, as one element instead of one per label, row and icon.

Each NiceGUI element holds about 4 KB on the server for as long as its page is open; a card's title
row, its figures and its label/value rows are drawn once and only ever replaced as a whole, so they
need no element each. ``Markup`` writes the same HTML those elements would have (NiceGUI's row and
column classes, Quasar's icon), escaped, inside a wrapper that takes no part in the layout
(``display: contents``): the page looks the same. Anything that reacts (a button) stays an element of
its own; a plain link (``link``: an address the browser opens by itself) needs no server and may be
written here too.
"""

from __future__ import annotations

import re
from html import escape

from nicegui import ui


class Markup(ui.html):
    """Pieces made by ``icon``, ``text``, ``row`` and ``column``; ``texts`` are the words it shows, for
    finding it the way a label is found (``ElementFilter``, the User fixture's ``should_see``)."""

    def __init__(self, *pieces: str, texts: list[str]) -> None:
        super().__init__("".join(pieces), sanitize=False)  # every text in it was escaped by ``text``
        self.style("display: contents")
        self._texts = texts

    def _displayed_contents(self, *, only_visible: bool) -> list[object]:
        return [*super()._displayed_contents(only_visible=only_visible), *self._texts]


def icon(name: str, classes: str = "") -> str:
    """What Quasar renders for ``ui.icon(name)`` (a Material icon's name is plain letters and '_')."""
    return (
        f'<i class="q-icon notranslate material-icons {classes}" aria-hidden="true" role="presentation">'
        f"{escape(name)}</i>"
    )


def text(value: str, classes: str = "", style: str = "", *, addresses: bool = False) -> str:
    """A ``ui.label``; with ``addresses``, the e-mail and web addresses in it wrap between their parts
    (``breakable``)."""
    styled = f' style="{escape(style)}"' if style else ""
    return f'<div class="{classes}"{styled}>{breakable(value) if addresses else escape(value)}</div>'


def row(classes: str, *children: str) -> str:
    """A ``ui.row``."""
    return f'<div class="nicegui-row {classes}">{"".join(children)}</div>'


def heading(value: str, classes: str = "", *, level: int = 2) -> str:
    """A heading (``components.headings``): a card's title, a section of the page under its ``h1``."""
    return f'<h{level} class="{classes}">{escape(value)}</h{level}>'


def column(classes: str, *children: str) -> str:
    """A ``ui.column``."""
    return f'<div class="nicegui-column {classes}">{"".join(children)}</div>'


def link(value: str, href: str, classes: str = "", *, new_tab: bool = False, new_tab_note: str = "") -> str:
    """An ``<a>`` to ``href`` (``mailto:``, ``tel:``, a web address) showing ``value`` as ``breakable``
    writes it. ``new_tab`` opens it in a tab of its own, without handing it this page (rel=noopener),
    marked by an icon and, for screen readers, by ``new_tab_note`` ("opens in a new tab")."""
    target = ' target="_blank" rel="noopener"' if new_tab else ""
    after = icon("open_in_new", "text-sm q-ml-xs") if new_tab else ""
    if new_tab and new_tab_note:
        after += f'<span class="sr-only"> ({escape(new_tab_note)})</span>'
    return f'<a href="{escape(href)}" class="{classes}"{target}>{breakable(value)}{after}</a>'


# Where an e-mail or web address may wrap: after "@" and after slashes, before dots and the query's marks,
# as style guides break them, so that a narrow screen splits it between its parts, not inside a name.
_ADDRESS_PARTS = re.compile(r"(@|/+|[.?#&=])")


def breakable(value: str) -> str:
    """``value`` escaped, with ``<wbr>`` (a place to wrap only if needed) in each e-mail or web address
    in it. Other words are left as they are: "St. Louis" is no address."""
    return " ".join(
        _breakable_address(word) if "@" in word or "://" in word else escape(word)
        for word in value.split(" ")
    )


def _breakable_address(word: str) -> str:
    pieces = []
    for piece in _ADDRESS_PARTS.split(word):
        if piece == "@" or piece.startswith("/"):
            pieces.append(escape(piece) + "<wbr>")
        elif len(piece) == 1 and piece in ".?#&=":
            pieces.append("<wbr>" + escape(piece))
        else:
            pieces.append(escape(piece))
    return "".join(pieces)
