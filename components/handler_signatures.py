"""NiceGUI asks, for every element it makes, whether its change handlers take an argument, by reading
the handler's signature with ``inspect.signature``: three times an element (its props, classes and
style), the same few bound methods every time. On a burst of Home loads that was a fifth of the CPU.

``install`` puts a remembering version in its place: the answer for a function, or for the function
behind a bound method, is worked out once. Bound methods of one function all answer alike (the bound
first argument is never asked for), so the function is the key; it is held weakly, so a handler made
for one page (a lambda) is forgotten with it. Anything that cannot be held weakly is asked each time.
"""

from __future__ import annotations

import contextlib
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from nicegui import helpers

_original: Callable[[Callable[..., Any]], bool] = helpers.expects_arguments
_plain: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_bound: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def expects_arguments(func: Callable[..., Any]) -> bool:
    """``nicegui.helpers.expects_arguments``, remembered per function."""
    if inspect.ismethod(func):
        known, key = _bound, func.__func__
    else:
        known, key = _plain, func
    try:
        return known[key]
    except KeyError:
        pass
    except TypeError:  # cannot be held weakly (or hashed): ask every time
        return _original(func)
    answer = _original(func)
    with contextlib.suppress(TypeError):
        known[key] = answer
    return answer


def install() -> None:
    """Make NiceGUI use the remembering version (it looks ``helpers.expects_arguments`` up at each call)."""
    helpers.expects_arguments = expects_arguments
