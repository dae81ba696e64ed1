"""Headings: the page's one ``h1``, section ``h2``s, and a dialog's title that names the dialog.

Screen-reader users move through a page by its headings, so each page has exactly one ``h1`` (its
title, drawn by the frame) and its sections and dialogs ``h2``s. Quasar styles bare ``h1``-``h6`` as
display type; the theme resets them so the classes given here decide how each looks.
"""

from __future__ import annotations

from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement


class Heading(TextElement):
    """A heading element of the given level, showing ``text``."""

    def __init__(self, text: str, *, level: int) -> None:
        super().__init__(tag=f"h{level}", text=text)


def page_heading(text: str, classes: str = "text-2xl font-semibold text-grey-9") -> Heading:
    """The page's title, its only ``h1``."""
    return Heading(text, level=1).classes(classes)


def section_heading(text: str, classes: str = "text-lg font-semibold") -> Heading:
    """The title of a part of the page (a card, a panel)."""
    return Heading(text, level=2).classes(classes)


# What a person can type into or choose, then any other control: the first of them takes the focus.
_CONTROLS = (
    "input:not([type=hidden]):not([readonly]), textarea:not([readonly]), [role=combobox], [role=radio], "
    "[role=checkbox], button, a[href]"
)


def dialog_title(dialog: ui.dialog, text: str, classes: str = "text-lg font-semibold") -> Heading:
    """The dialog's visible title, which is also its accessible name (``aria-labelledby``).

    Once the dialog is open, its first field has the focus (or, with none, its first control, which in
    a confirmation is Cancel): Quasar would focus the dialog itself, a Tab away from anything to do.
    """
    heading = section_heading(text, classes)
    dialog.props(f"aria-labelledby={heading.html_id}")  # NiceGUI's id of the element, unique on the page
    dialog.on(
        "show",
        js_handler=f"""() => {{
            const box = document.querySelector('[aria-labelledby="{heading.html_id}"]');
            if (!box || box.contains(document.activeElement) && document.activeElement !== box
                && !document.activeElement.classList.contains('q-dialog__inner')) return;
            const first = [...box.querySelectorAll({_CONTROLS!r})]
                .find((control) => !control.disabled && control.offsetParent !== null);
            if (first) first.focus();
        }}""",
    )
    return heading
