"""Colours shared by every page.

Set for the whole app rather than by an element on each page: an open page then holds nothing for them.
"""

from nicegui import app, ui

PAGE_BACKGROUND = "<style>body { background: #fafafa; }</style>"  # Quasar's grey-1

_background_added = False


def apply_theme() -> None:
    global _background_added  # once per process, whichever page comes first
    app.colors(primary="#1d4e89", secondary="#0f766e", accent="#b45309")
    if not _background_added:
        ui.add_head_html(PAGE_BACKGROUND, shared=True)
        _background_added = True
