"""Table styling shared by the lists and documents."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from nicegui import ui

from components.url_params import whole_number

COMPACT_ON_PHONE = "compact-on-phone"
# A heading may take two lines on a phone ("Offener / Betrag"): a long one must not push its table wider
# than the screen when its column's figures would fit.
_PHONE_CSS = (
    "@media (max-width: 599px) { .compact-on-phone th, .compact-on-phone td { padding: 6px 8px; }"
    " .compact-on-phone th { white-space: normal; } }"
)


# Column options that hide a table column below 640 px (the phone layout keeps what matters).
PHONE_HIDDEN = {"classes": "max-sm:hidden", "headerClasses": "max-sm:hidden"}


# Quasar sorts when its header cell is clicked: a cell, which neither Tab nor a screen reader knows for a
# control. The label of a sortable column is a button in the cell that sorts as the cell does (and
# keeps its click from the cell, which would sort once more), and the cell says how the table is
# sorted. A column may name itself for screen readers only (``"srOnly": True``), for a column of
# buttons whose header would otherwise be empty.
HEADER_CELL = """
<q-th :props="props"
      :aria-sort="props.col.sortable ? (props.col.__thClass.includes('sorted')
        ? (props.col.__thClass.includes('sort-desc') ? 'descending' : 'ascending') : 'none') : undefined">
  <button v-if="props.col.sortable" type="button" class="sort-button"
          @click.stop="props.sort(props.col)">{{ props.col.label }}</button>
  <span v-else :class="props.col.srOnly ? 'sr-only' : ''">{{ props.col.label }}</span>
</q-th>
"""


def accessible_headers(table: ui.table) -> ui.table:
    """The table's header cells as ``HEADER_CELL`` draws them."""
    table.add_slot("header-cell", HEADER_CELL)
    return table


def compact_on_phone(table: ui.table) -> ui.table:
    """Narrower cell padding on a phone, so the columns shown there fit its width."""
    ui.add_css(_PHONE_CSS)
    return table.classes(COMPACT_ON_PHONE)


def server_pagination(
    *, page: int, page_size: int, sort: str, descending: bool, total: int
) -> dict[str, Any]:
    """Quasar's pagination for a table paged on the server (``rowsNumber`` makes it ask for pages)."""
    return {
        "page": page,
        "rowsPerPage": page_size,
        "sortBy": sort,
        "descending": descending,
        "rowsNumber": total,
    }


def requested_page(args: Any, *, sorts: Collection[str], default_sort: str) -> dict[str, Any]:
    """What a table's ``request`` event asks for, as query changes. The browser sends it, so anything
    in it may be anything: an unknown sort, a page or size that is not a usable number falls back."""
    pagination = args.get("pagination") if isinstance(args, dict) else None
    pagination = pagination if isinstance(pagination, dict) else {}
    sort = pagination.get("sortBy") or default_sort
    return {
        "sort": sort if isinstance(sort, str) and sort in sorts else default_sort,
        "descending": bool(pagination.get("descending")),
        "page": whole_number(pagination.get("page"), 1),
        "page_size": whole_number(pagination.get("rowsPerPage"), 25, highest=100),
    }
