"""The country list for address forms: ISO 3166 codes and their names in the reader's language."""

from __future__ import annotations

from services.dashboard import country_names


def country_options() -> dict[str, str]:
    """Every country's name by its code, in the reader's language and sorted by that name, for a select
    (``ui.select(country_options(), ...)``) and for checking a code (``code in country_options()``)."""
    return dict(country_names())
