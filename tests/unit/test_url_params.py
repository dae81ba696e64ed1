"""Reading what a browser sends (an address's query, a table's page request) never raises: a value that
cannot be used is the default."""

from __future__ import annotations

import pytest

from components.tables import requested_page
from components.url_params import UrlParams, whole_number
from services.paging import MAX_PAGE, page_number


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7), (7, 7), ("²", 1), ("٣", 1), ("-1", 1), ("0", 1), ("1e3", 1), (" 7", 1), ("7.0", 1),
     (7.0, 1), ("99999999999999999999", 1), (10**30, 1), (None, 1), (True, 1), ([], 1), ("", 1),
     (str(MAX_PAGE), MAX_PAGE)],
)  # fmt: skip
def test_a_whole_number_is_ascii_digits_within_bounds(value: object, expected: int) -> None:
    assert whole_number(value, 1) == expected


def test_choices_text_and_flags_fall_back_to_their_defaults() -> None:
    url = UrlParams({"sort": "__class__", "q": "inv\u202e-\x07001" + "x" * 500, "desc": "yes", "on": "1"})
    assert url.choice("sort", ("date", "amount"), "date") == "date"
    assert url.text("q", max_length=10) == "inv-001xxx"
    assert url.text("missing", "none") == "none"
    assert url.flag("desc", default=True) is True
    assert url.flag("on", default=False) is True
    assert url.given("on")
    assert not url.given("missing")


@pytest.mark.parametrize(
    "args",
    [
        {"pagination": {"page": "²", "rowsPerPage": -5, "sortBy": ["x"], "descending": "yes"}},
        {"pagination": {"page": 10**30, "rowsPerPage": 10**6, "sortBy": "__class__"}},
        {"pagination": None},
        {"pagination": "page=2"},
        {},
        [],
        None,
    ],
)
def test_a_tables_page_request_from_the_browser_never_raises(args: object) -> None:
    wanted = requested_page(args, sorts=("date",), default_sort="date")
    assert wanted["sort"] == "date"
    assert 1 <= wanted["page"] <= MAX_PAGE
    assert 1 <= wanted["page_size"] <= 100


def test_services_keep_the_page_within_bounds() -> None:
    assert page_number(-3) == 1
    assert page_number(10**30) == MAX_PAGE
