"""Print a document the way it downloads: the same PDF, loaded in a hidden frame whose print dialog opens."""

from __future__ import annotations

import json

from nicegui import ui


def print_pdf(pdf_url: str) -> None:
    ui.run_javascript(
        "const f = document.createElement('iframe'); f.style.display = 'none';"
        f"f.src = {json.dumps(pdf_url)}; f.onload = () => f.contentWindow.print();"
        "document.body.appendChild(f);"
    )
