"""The sign-in throttle under attempts made at once: an attempt is counted before it is judged, so no
more than the limit are ever judged, and a right answer gives its count back."""

from __future__ import annotations

import threading

import pytest

from services.auth import sign_in
from services.clock import utc_now
from services.errors import SignInLocked, SignInRefused
from services.sign_in_throttle import ACCOUNT_FAILURE_LIMIT, ADDRESS_FAILURE_LIMIT
from tests.factories import make_customer

ADDRESS = "198.51.100.7"
PASSWORD = "Correct-Horse-9"  # tests.factories' password


def attempt(db, email: str, password: str) -> str:
    try:
        sign_in(db, email=email, password=password, ip_address=ADDRESS, clock=utc_now, rounds=4)
    except SignInRefused:
        return "judged wrong"
    except SignInLocked:
        return "locked"
    return "signed in"


def test_attempts_made_at_once_are_judged_no_more_often_than_the_limit(db):
    principal = make_customer(db)
    racers = 3 * ACCOUNT_FAILURE_LIMIT
    start = threading.Barrier(racers)
    answers: list[str] = []

    def guess(n: int) -> None:
        start.wait()
        answers.append(attempt(db, principal.email, f"Wrong-guess-{n:04d}"))

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers.count("judged wrong") <= ACCOUNT_FAILURE_LIMIT
    assert answers.count("locked") >= racers - ACCOUNT_FAILURE_LIMIT
    assert attempt(db, principal.email, PASSWORD) == "locked"  # even the right password, until it ends


def test_a_right_answer_does_not_count_towards_the_addresss_limit(db):
    principal = make_customer(db)
    for n in range(ADDRESS_FAILURE_LIMIT - 2):  # unknown accounts tried from one address
        assert attempt(db, f"nobody{n}@example.com", "Wrong-guess-0000") == "judged wrong"
    assert attempt(db, principal.email, PASSWORD) == "signed in"
    assert attempt(db, "nobody@example.com", "Wrong-guess-0000") == "judged wrong"  # one short of it
    assert attempt(db, "nobody@example.com", "Wrong-guess-0000") == "locked"


@pytest.mark.parametrize("racers", [2])
def test_two_first_attempts_at_once_make_one_throttle_row_each(db, racers):
    principal = make_customer(db)
    start = threading.Barrier(racers)
    answers: list[str] = []

    def guess() -> None:
        start.wait()
        answers.append(attempt(db, principal.email, "Wrong-guess-0000"))

    threads = [threading.Thread(target=guess) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["judged wrong"] * racers


def test_an_address_with_a_nul_character_is_an_unknown_account_not_a_server_error(db):
    make_customer(db)
    assert attempt(db, "ann\x00@client.example", "Wrong-guess-0000") == "judged wrong"
