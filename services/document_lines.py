"""A document's lines stored with the totals computed from them: invoices and quotes alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from models.document_line import TotalsColumns
from services.amount_bounds import check_document
from services.totals import LineInput, document_totals, line_columns

Line = TypeVar("Line")


def priced_lines(
    document: TotalsColumns, lines: Sequence[LineInput], make: Callable[..., Line]
) -> list[Line]:
    """Set ``document``'s stored totals from ``lines`` and return its line rows, made with ``make``.

    ``InvalidLine`` for a bad line, ``AmountTooLarge`` for an amount above the bound; then nothing is set.
    """
    totals = document_totals(lines, document.currency)
    check_document(lines, totals)
    document.subtotal_minor = totals.subtotal.minor
    document.discount_minor = totals.discount.minor
    document.tax_minor = totals.tax.minor
    document.total_minor = totals.total.minor
    columns: list[dict[str, Any]] = line_columns(lines, totals)
    return [make(**values) for values in columns]
