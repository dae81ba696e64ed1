"""A card typed as people type it: the expiry in the usual ways, the number grouped, the brand told."""

from __future__ import annotations

import pytest

from services.card_input import card_brand, expiry_text, group_card_number, number_groups, read_expiry


@pytest.mark.parametrize(
    ("typed", "expiry"),
    [
        ("12/29", (12, 2029)),
        ("12 / 2029", (12, 2029)),
        ("1229", (12, 2029)),
        ("122029", (12, 2029)),
        ("12-29", (12, 2029)),
        (" 01/30 ", (1, 2030)),
        ("1/30", (1, 2030)),
        ("12 29", (12, 2029)),
        ("١٢/٣٠", (12, 2030)),
    ],
)
def test_an_expiry_reads_however_it_is_typed(typed, expiry):
    assert read_expiry(typed) == expiry


@pytest.mark.parametrize("typed", ["", "12", "129", "12/2", "12/202", "1229x", "12//29", "²/30", "12/⑳"])
def test_an_expiry_that_cannot_be_read_is_left_for_the_gateway_to_refuse(typed):
    assert read_expiry(typed) == (0, 0)


@pytest.mark.parametrize(
    ("typed", "grouped"),
    [
        ("4242424242424242", "4242 4242 4242 4242"),
        ("4242 42424", "4242 4242 4"),
        ("378282246310005", "3782 822463 10005"),
        ("4242-4242", "4242-4242"),  # not only digits: as typed
        ("", ""),
    ],
)
def test_the_number_is_grouped_as_the_card_prints_it(typed, grouped):
    assert group_card_number(typed) == grouped


@pytest.mark.parametrize(
    ("typed", "brand"),
    [
        ("4", "Visa"),
        ("5555 5555", "Mastercard"),
        ("2223 0031", "Mastercard"),
        ("3782", "American Express"),
        ("6011 1111", "Discover"),
        ("3", ""),
        ("9999", ""),
    ],
)
def test_the_brand_is_told_from_the_first_digits(typed, brand):
    assert card_brand(typed) == brand


@pytest.mark.parametrize(
    ("typed", "groups"),
    [("", (4, 4, 4, 4, 3)), ("4242", (4, 4, 4, 4, 3)), ("37", (4, 6, 5)), ("3411 111111 11111", (4, 6, 5))],
)
def test_the_groups_follow_the_brand_as_far_as_it_is_typed(typed, groups):
    assert number_groups(typed) == groups


def test_an_expiry_reads_back_as_the_card_prints_it():
    assert expiry_text(*read_expiry("1229")) == "12/29"
    assert expiry_text(*read_expiry("1 / 2031")) == "01/31"
