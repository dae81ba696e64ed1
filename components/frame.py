"""The page frame: header with the business's name and logo, the left sidebar, the demo banner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from nicegui import ui

from components import markup
from components.markup import Markup
from components.theme import apply_theme
from services.branding import Branding
from services.principal import Principal


@dataclass(frozen=True)
class NavEntry:
    label: str
    icon: str
    path: str


# Only entries whose pages exist; later features add theirs here.
NAVIGATION = (
    NavEntry("Home", "home", "/"),
    NavEntry("Invoices", "receipt_long", "/invoices"),
    NavEntry("Payments Made", "payments", "/payments"),
    NavEntry("Statement of Accounts", "account_balance", "/statement"),
    NavEntry("Change Password", "lock", "/password"),
)

ITEM_SECTION = "q-item__section column justify-center"  # what Quasar renders for ui.item_section
DEMO_NOTICE = "Demo portal: sample data for trying things out. No real money moves."


@contextmanager
def frame(title: str, *, branding: Branding, principal: Principal, active: str) -> Iterator[ui.column]:
    """Lay out a signed-in page; the caller fills the returned column with the page's content."""
    apply_theme()
    ui.page_title(f"{title} · {branding.name}")
    # Quasar lays the drawer out beside the header whatever the order; made first for the menu button.
    with sidebar_drawer("bg-grey-1") as drawer:
        _sidebar(active)
    with ui.header(elevated=False).classes("column gap-0 bg-primary text-white p-0"):
        with ui.row().classes("w-full items-center gap-3 px-3 py-2 no-wrap"):
            ui.button(icon="menu", on_click=drawer.toggle).props(
                'flat round dense color=white aria-label="Open navigation"'
            ).classes("lg:hidden")
            mark = _plain_business_mark(branding)
            if branding.has_logo:
                business_mark(branding)  # Quasar's image, as on the sign-in page
            Markup(
                mark,
                '<div class="q-space"></div>',
                markup.text(principal.name, "text-sm opacity-90 max-sm:hidden"),
                texts=[branding.name, principal.name],
            )
        if branding.is_demo:
            demo_banner()
    with ui.column().classes("w-full max-w-6xl mx-auto gap-6 p-4 md:p-8") as content:
        ui.label(title).classes("text-2xl font-semibold text-grey-9")
        yield content


def sidebar_drawer(background: str) -> ui.left_drawer:
    """The sidebar: beside the page from 1024 px wide, else a drawer behind the header's menu button.

    It starts closed on the server and Quasar opens it on a wide screen (``show-if-above``), telling
    the server so. NiceGUI's default (``value=None``) instead asks the browser once it connects and
    awaits the answer for a second, and a page left sooner logged a time-out with a traceback.
    """
    return (
        ui.left_drawer(value=False, bordered=True)
        .props("width=232 breakpoint=1023 show-if-above")
        .classes(f"{background} p-0")
    )


def business_mark(branding: Branding, *, large: bool = False) -> None:
    """The logo (when there is one) and the business's name."""
    with ui.row().classes("items-center gap-2 no-wrap"):
        if branding.has_logo:
            ui.image("/branding/logo").props('fit=contain alt=""').classes(
                "w-10 h-10" if large else "w-8 h-8"
            )
        ui.label(branding.name).classes("font-semibold " + ("text-2xl" if large else "text-lg"))


def _plain_business_mark(branding: Branding) -> str:
    """``business_mark`` as markup when there is no logo; else nothing (the caller draws the element)."""
    if branding.has_logo:
        return ""
    return markup.row("items-center gap-2 no-wrap", markup.text(branding.name, "font-semibold text-lg"))


def demo_banner() -> None:
    notice = markup.text(DEMO_NOTICE, "text-sm").replace("<div ", '<div data-testid="demo-banner" ', 1)
    Markup(
        markup.row(
            "w-full items-center justify-center gap-2 bg-amber-2 text-amber-10 py-1 px-4 no-wrap",
            markup.icon("science", "text-lg"),
            notice,
        ),
        texts=[DEMO_NOTICE],
    )


def _sidebar(active: str) -> None:
    with ui.column().classes("w-full h-full justify-between py-3 gap-0"):
        with ui.list().classes("w-full").props("padding"):
            for entry in NAVIGATION:
                selected = entry.path == active or (entry.path != "/" and active.startswith(entry.path))
                with (
                    ui.item()
                    .props(f"clickable tag=a href={entry.path}" + (" active" if selected else ""))
                    .classes(
                        "rounded-r-full mr-3" + (" bg-blue-1 text-primary font-medium" if selected else "")
                    )
                ):
                    Markup(
                        f'<div class="{ITEM_SECTION} q-item__section--avatar q-item__section--side">'
                        f"{markup.icon(entry.icon)}</div>",
                        markup.text(entry.label, f"{ITEM_SECTION} q-item__section--main"),
                        texts=[entry.label],
                    )
        # A real form post: sign-out needs the session cookie, which only a request carries.
        with ui.element("form").props("method=post action=/auth/logout").classes("w-full px-3"):
            ui.button("Logout", icon="logout").props("type=submit flat no-caps align=left").classes(
                "w-full text-grey-8"
            )
