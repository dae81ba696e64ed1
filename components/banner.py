"""A coloured notice above a form: an error, a warning or a confirmation, read out by screen readers."""

from __future__ import annotations

from nicegui import ui


def banner(kind: str, text: str) -> None:
    colors = {
        "negative": "bg-red-1 text-red-10",
        "warning": "bg-amber-1 text-brown-10",
        "positive": "bg-green-1 text-green-10",
    }
    with ui.row().classes(f"w-full items-start gap-2 rounded p-3 no-wrap {colors[kind]}").props("role=alert"):
        ui.icon({"negative": "error", "warning": "schedule", "positive": "check_circle"}[kind]).classes(
            "text-lg"
        )
        ui.label(text).classes("text-sm")
