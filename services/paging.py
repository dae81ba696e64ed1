"""The range every paged list pages in: a page number from an address or a table's request is brought
into it before it becomes an OFFSET, so no number typed into a URL can overflow the database's integers."""

from __future__ import annotations

MAX_PAGE = 1_000_000  # 100 million rows at the largest page size; the offset stays far inside 64 bits


def page_number(page: int) -> int:
    """``page`` within 1 and ``MAX_PAGE``."""
    return min(max(1, page), MAX_PAGE)
