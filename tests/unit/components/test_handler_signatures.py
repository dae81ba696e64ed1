"""NiceGUI's question "does this handler take an argument?" gets the same answer from the remembering
version as from NiceGUI's own, for every kind of callable, and NiceGUI asks it when it makes elements."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest
from nicegui import helpers

from components import handler_signatures
from components.handler_signatures import expects_arguments


class Handlers:
    def takes(self, event) -> None: ...

    def takes_none(self) -> None: ...

    def optional(self, event=None) -> None: ...

    @classmethod
    def of_class(cls, event) -> None: ...

    @staticmethod
    def static(event) -> None: ...

    def __call__(self, event) -> None: ...


def takes(event) -> None: ...


def takes_none() -> None: ...


def variadic(*args, **kwargs) -> None: ...


CALLABLES: dict[str, Callable[..., object]] = {
    "function with an argument": takes,
    "function without": takes_none,
    "variadic function": variadic,
    "lambda with an argument": lambda event: None,
    "lambda without": lambda: None,
    "bound method with an argument": Handlers().takes,
    "bound method without": Handlers().takes_none,
    "bound method with a default": Handlers().optional,
    "class method": Handlers.of_class,
    "static method": Handlers.static,
    "callable object": Handlers(),
    "partial that fills the argument": functools.partial(takes, 1),
    "partial that does not": functools.partial(variadic),
    "builtin": print,
}


@pytest.mark.parametrize("name", CALLABLES)
def test_the_answer_is_nicegui_own_the_first_time_and_the_next(name: str) -> None:
    func = CALLABLES[name]
    original = handler_signatures._original(func)

    assert expects_arguments(func) == original
    assert expects_arguments(func) == original


def test_bound_methods_of_other_instances_answer_from_what_was_learnt(monkeypatch) -> None:
    asked: list[object] = []

    def original(func: object) -> bool:
        asked.append(func)
        return True

    monkeypatch.setattr(handler_signatures, "_original", original)

    class Fresh:  # a function nobody asked about before
        def takes(self, event) -> None: ...

    assert expects_arguments(Fresh().takes)
    assert expects_arguments(Fresh().takes)
    assert len(asked) == 1


def test_nicegui_asks_the_remembering_version_once_installed(monkeypatch) -> None:
    monkeypatch.setattr(helpers, "expects_arguments", helpers.expects_arguments)  # undone after the test
    handler_signatures.install()
    assert helpers.expects_arguments is expects_arguments

    from nicegui.observables import ObservableDict

    calls: list[object] = []

    def counted(func: Callable[..., object]) -> bool:
        calls.append(func)
        return expects_arguments(func)

    monkeypatch.setattr(helpers, "expects_arguments", counted)
    ObservableDict({}, on_change=Handlers().takes)
    assert calls  # NiceGUI looks it up at each call: a NiceGUI that stopped doing so would not be sped up
