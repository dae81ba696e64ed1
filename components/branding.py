"""The business's branding for a page's frame: from this process's memory while it is fresh, else read
in a database thread (``services.branding.remembered_branding``)."""

from __future__ import annotations

from components.offload import io_bound
from services.branding import Branding, read_branding, remembered_branding
from services.database import Database


async def business_branding(db: Database) -> Branding:
    """``get_branding`` for the page being drawn, without a trip to a database thread on most pages."""
    known = remembered_branding(db)
    if known is not None:
        return known
    return await io_bound(read_branding, db)
