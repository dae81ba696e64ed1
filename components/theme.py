"""Colours shared by every page."""

from nicegui import ui


def apply_theme() -> None:
    ui.colors(primary="#1d4e89", secondary="#0f766e", accent="#b45309")
    ui.query("body").classes("bg-grey-1")
