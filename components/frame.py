"""The page frame: header with the business's name and logo, the left sidebar, the demo banner."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import escape

from nicegui import ui

from components import authority, markup
from components.headings import page_heading
from components.markup import Markup
from components.theme import apply_theme
from services.branding import Branding
from services.i18n import N_, _
from services.principal import Principal


@dataclass(frozen=True)
class NavEntry:
    label: str
    icon: str
    path: str


# Only entries whose pages exist; later features add theirs here.
NAVIGATION = (
    NavEntry(N_("Home"), "home", "/"),
    NavEntry(N_("Invoices"), "receipt_long", "/invoices"),
    NavEntry(N_("Quotes"), "request_quote", "/quotes"),
    NavEntry(N_("Payments Made"), "payments", "/payments"),
    NavEntry(N_("Statement of Accounts"), "account_balance", "/statement"),
    NavEntry(N_("Change Password"), "lock", "/password"),
)

ITEM_SECTION = "q-item__section column justify-center"  # what Quasar renders for ui.item_section
# What Quasar renders for a clickable ``ui.item`` that is a link (``tag=a``), and for the selected one.
ITEM_LINK = "q-item q-item-type row no-wrap q-item--clickable q-link cursor-pointer q-focusable q-hoverable"
ITEM_SELECTED = "q-item--active q-router-link--active"
LOGOUT_BUTTON = (
    "q-btn q-btn-item non-selectable no-outline q-btn--flat q-btn--rectangle text-primary q-btn--actionable "
    "q-focusable q-hoverable q-btn--no-uppercase w-full text-grey-8"
)
DEMO_NOTICE = N_("Demo portal: sample data for trying things out. No real money moves.")  # shown with _()


@contextmanager
def frame(title: str, *, branding: Branding, principal: Principal, active: str) -> Iterator[ui.column]:
    """Lay out a signed-in page; the caller fills the returned column with the page's content."""
    authority.holder_of(ui.context.client)  # now, while its request's session check is fresh
    apply_theme()
    ui.page_title(_("{title} · {name}").format(title=title, name=branding.name))
    # Quasar lays the drawer out beside the header whatever the order; made first for the menu button.
    with sidebar_drawer("bg-grey-1") as drawer:
        _sidebar(active)
    with ui.header(elevated=False).classes("column gap-0 bg-primary text-white p-0"):
        skip = skip_link()
        with ui.row().classes("w-full items-center gap-3 px-3 py-2 no-wrap"):
            menu_button(drawer)
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
    with main_content(skip) as content:
        page_heading(title)
        yield content


def skip_link() -> ui.link:
    """The first stop of the Tab key: past the header and the sidebar to the page's own content."""
    return ui.link(_("Skip to content"), "#").classes("skip-link")


def menu_button(drawer: ui.left_drawer) -> ui.button:
    """The header's menu button on a narrow screen, which opens the drawer; Escape closes it again.

    It says whether the drawer is open (``aria-expanded``). The focus follows the drawer laid over the
    page on a narrow screen, as it would a dialog: into it, on its first link, once it is open, and back
    to this button when it closes (by Escape, a tap beside it or a swipe). Beside the page on a wide
    screen it is not a pop-up at all, and the focus stays where it is. All of it is done in the browser.
    """
    label = _("Open navigation")
    button = ui.button(icon="menu", on_click=drawer.toggle).props(
        f'flat round dense color=white aria-label="{label}" aria-expanded=false'
    )
    drawer.on_value_change(lambda event: button.props(f"aria-expanded={str(bool(event.value)).lower()}"))
    drawer.on(
        "keydown.esc",
        js_handler=f"""(event) => {{
            if (!event.target.closest('.q-drawer--mobile')) return;
            getElement({drawer.id}).hide();
            document.getElementById('{button.html_id}').focus();
        }}""",
    )
    # Quasar says "show" and "hide" once the drawer has slid in or out, when it can take the focus.
    drawer.on(
        "show",
        js_handler="""() => {
            const first = document.querySelector('aside.q-drawer--mobile a[href]');
            if (first) first.focus();
        }""",
    )
    drawer.on(
        "hide",
        js_handler=f"""() => {{
            const button = document.getElementById('{button.html_id}');
            const drawer = document.querySelector('aside.q-drawer');
            const focused = document.activeElement;
            if (!button || !drawer || button.offsetParent === null) return;  // a wide screen: no menu button
            // Left in the drawer, or on what holds it (a tap beside it focuses the layout): not elsewhere.
            if (focused && !focused.contains(drawer) && !drawer.contains(focused)) return;
            button.focus();
        }}""",
    )
    return button.classes("lg:hidden")


@contextmanager
def main_content(skip: ui.link) -> Iterator[ui.column]:
    """The page's content, inside NiceGUI's ``main``; the skip link leads here (focusable from there,
    not by Tab)."""
    with ui.column().classes("w-full max-w-6xl mx-auto gap-6 p-4 md:p-8").props("tabindex=-1") as content:
        skip.props(f"href=#{content.html_id}")
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


def business_mark(branding: Branding, *, large: bool = False, heading: bool = False) -> None:
    """The logo (when there is one) and the business's name; ``heading`` makes the name the page's h1
    (on a sign-in page, which has no title of its own)."""
    with ui.row().classes("items-center gap-2 no-wrap"):
        if branding.has_logo:
            ui.image("/branding/logo").props('fit=contain alt=""').classes(
                "w-10 h-10" if large else "w-8 h-8"
            )
        classes = "font-semibold " + ("text-2xl" if large else "text-lg")
        if heading:
            page_heading(branding.name, classes)
        else:
            ui.label(branding.name).classes(classes)


@contextmanager
def signed_out_card(width: str = "max-w-sm") -> Iterator[ui.card]:
    """The card of a page shown before sign-in, centred on the page."""
    with (
        ui.column().classes("w-full min-h-[80vh] items-center justify-center p-4"),
        ui.card().classes(f"w-full {width} p-6 gap-4").props("flat bordered") as card,
    ):
        yield card


def _navigation(active: str) -> Markup:
    """The customer's sidebar as one element: ``navigation_list`` and ``navigation_item`` as the markup
    Quasar makes of them, then Logout. Each link the browser follows by itself and Logout is a form it
    posts, so a page holds no element for any of them (Home is what every customer opens at month-end)."""
    # Translators: the name of the sidebar's navigation landmark; screen readers add "navigation" to it.
    name = _("Main")
    links, labels = [], []
    for entry in NAVIGATION:
        selected = entry.path == active or (entry.path != "/" and active.startswith(entry.path))
        label = _(entry.label)
        classes, current = f"{ITEM_LINK} rounded-e-full me-3", ""
        if selected:
            classes += f" {ITEM_SELECTED} bg-blue-1 text-primary font-medium"
            current = ' aria-current="page"'
        links.append(
            f'<a class="{classes}" href="{escape(entry.path)}"{current}>'
            '<div class="q-focus-helper" tabindex="-1"></div>'
            f'<div class="{ITEM_SECTION} q-item__section--avatar q-item__section--side">'
            f"{markup.icon(entry.icon)}</div>"
            f"{markup.text(label, f'{ITEM_SECTION} q-item__section--main')}</a>"
        )
        labels.append(label)
    # A real form post: sign-out needs the session cookie, which only a request carries. The button is
    # what Quasar renders for ``ui.button(_("Logout"), icon="logout")``, flat: the browser posts the form.
    logout = _("Logout")
    sign_out = (
        '<form class="w-full px-3" method="post" action="/auth/logout">'
        f'<button class="{LOGOUT_BUTTON}" type="submit"><span class="q-focus-helper"></span>'
        '<span class="q-btn__content text-center col items-center q-anchor--skip justify-start row">'
        '<i class="q-icon on-left notranslate material-icons" aria-hidden="true" role="img">logout</i>'
        f'<span class="block">{escape(logout)}</span></span></button></form>'
    )
    return Markup(  # the column lays the two out: the links at the top, Logout at the bottom
        f'<nav aria-label="{escape(name)}" class="w-full">',
        '<div class="q-list q-list--padding w-full" role="none">',
        *links,
        "</div></nav>",
        sign_out,
        texts=[*labels, logout],
    )


def _plain_business_mark(branding: Branding) -> str:
    """``business_mark`` as markup when there is no logo; else nothing (the caller draws the element)."""
    if branding.has_logo:
        return ""
    return markup.row("items-center gap-2 no-wrap", markup.text(branding.name, "font-semibold text-lg"))


def demo_banner() -> None:
    notice = markup.text(_(DEMO_NOTICE), "text-sm").replace("<div ", '<div data-testid="demo-banner" ', 1)
    Markup(
        markup.row(
            "w-full items-center justify-center gap-2 bg-amber-2 text-brown-10 py-1 px-4 no-wrap",
            markup.icon("science", "text-lg"),
            notice,
        ),
        texts=[_(DEMO_NOTICE)],
    )


def navigation_list() -> ui.list:
    """The sidebar's links, a ``nav`` landmark. Quasar makes a list of items, and each item a list
    item, which a link cannot also be; the links carry it, so the list and its items are plain."""
    # Translators: the name of the sidebar's navigation landmark; screen readers add "navigation" to it.
    name = _("Main")
    with ui.element("nav").props(f'aria-label="{name}"').classes("w-full"):
        return ui.list().classes("w-full").props("padding role=none")


def navigation_item(path: str, *, selected: bool) -> ui.item:
    """A sidebar link (``aria-current`` on the page's own)."""
    current = ' aria-current="page" active' if selected else ""
    return ui.item().props(f"clickable tag=a href={path} role=link{current}")


def _sidebar(active: str) -> None:
    with ui.column().classes("w-full h-full justify-between py-3 gap-0"):
        _navigation(active)
