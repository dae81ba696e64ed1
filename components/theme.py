"""Colours, headings and focus shared by every page.

Set for the whole app rather than by an element on each page: an open page then holds nothing for them.
"""

from nicegui import app, ui

FOCUS = "#1d4e89"  # the primary colour: 8.9:1 on white; a white ring inside it shows on dark headers

# Quasar's defaults that fall short of WCAG 2.2 AA, put right once for every page. NiceGUI loads its CSS
# in cascade layers: a rule here outside any layer beats theirs; Quasar's colour classes are !important
# in its last layer (and so is its ``no-outline`` on every button), which only an !important rule in an
# earlier layer (``overrides``) beats; and the
# heading reset sits below Tailwind's utilities (``components``), so that a class still sizes a heading.
# - its hint, counter and inactive-tab text is 54 % black, 4.4:1 on the page's grey (AA asks 4.5:1),
#   and so is its grey 7, the helper text's colour here: #666 reads 5.5:1 there, 5:1 on light blue;
# - a button's content is a flex item lifted by z-index alone; positioned, it paints just the same, and
#   axe-core (4.12) then sees the button's own colour behind its text inside a dialog, not the backdrop;
# - NiceGUI's links are Tailwind's blue 500, 3.5:1 on the page's grey; the primary colour reads 8.6:1;
# - it styles bare h1-h6 as display type, while a heading here is chosen for the outline, not the size;
# - it takes the outline off buttons, items and tabs and marks focus with a faint overlay (about
#   1.3:1), so every control gets a ring of its own. A field shows focus by its 2 px primary border.
PAGE_STYLE = f"""<style>
body {{ background: #fafafa; }}
.q-field__bottom, .q-tab--inactive, .q-table__bottom {{ color: rgba(0, 0, 0, 0.7); }}
@layer overrides {{ .text-grey-7 {{ color: #666 !important; }} }}
@layer components {{ .nicegui-link {{ color: {FOCUS}; }} }}
@layer components {{ h1, h2, h3, h4, h5, h6 {{ font-size: inherit; font-weight: inherit;
  line-height: inherit; letter-spacing: normal; margin: 0; }} }}
.q-btn__content {{ position: relative; }}
@layer overrides {{
  :focus-visible:not(.q-field__native):not(.q-field__input):not(.q-dialog__inner):not([tabindex="-1"]) {{
    outline: 3px solid {FOCUS} !important; outline-offset: 2px !important;
    box-shadow: 0 0 0 2px #fff !important; }} }}
.skip-link {{ position: absolute; inset-inline-start: 8px; top: -48px; z-index: 7000; padding: 8px 16px;
  background: #fff; color: {FOCUS}; border-radius: 4px; font-weight: 600; }}
.skip-link:focus {{ top: 8px; }}
.sort-button {{ background: none; border: 0; padding: 0; font: inherit; color: inherit; cursor: pointer; }}
</style>"""

_installed = False


def apply_theme() -> None:
    global _installed  # once per process, whichever page comes first
    # Quasar's positive green (#21ba45) carries white text at 2.6:1; Material's green 9 at 5.1:1.
    app.colors(primary="#1d4e89", secondary="#0f766e", accent="#b45309", positive="#2e7d32")
    if not _installed:
        ui.add_head_html(PAGE_STYLE, shared=True)
        # Quasar makes every badge a live region (role="status"): a screen reader would read out each
        # badge of a list as it is drawn. A badge here labels something; it announces nothing.
        ui.badge.default_props(":role=null")
        # Quasar's loading bar runs along the top while any XMLHttpRequest is open (NiceGUI's messages go
        # over a WebSocket; on its polling fallback, always) as a progress bar without a name, which
        # says nothing anyway about what loads. Pages show their own progress (a button's spinner).
        app.config.quasar_config["loadingBar"]["skipHijack"] = True
        _installed = True
