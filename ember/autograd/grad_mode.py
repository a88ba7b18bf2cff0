"""Switches for gradient recording: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each works as a context manager and as a decorator.

>>> import ember
>>> x = ember.ones(2, requires_grad=True)
>>> with ember.no_grad():
...     (x * 2).requires_grad
False
"""

from __future__ import annotations

import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _GradState:
    __slots__ = ("enabled", "inference")

    def __init__(self):
        self.enabled = True
        self.inference = False


STATE = _GradState()


def is_grad_enabled() -> bool:
    """Whether operations are recorded for autograd right now.

    >>> ember.is_grad_enabled()
    True
    """
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    """Whether an ``inference_mode`` block is active.

    >>> ember.is_inference_mode_enabled()
    False
    """
    return STATE.inference


class _GradModeContext:
    """Base for the context managers: saves the previous state, restores it on exit."""

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args):
                return func(*args, **kwargs)
        return wrapper

    _args = ()

    def __exit__(self, *exc):
        STATE.enabled, STATE.inference = self._prev
        return False

    def clone(self):
        return self.__class__(*self._args)


class no_grad(_GradModeContext):
    """Disable gradient recording inside the block (or the decorated function).

    >>> @ember.no_grad()
    ... def double(x):
    ...     return x * 2
    >>> double(ember.ones(1, requires_grad=True)).requires_grad
    False
    """

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if callable(func):  # used as a bare decorator: @no_grad
            return self(func)
        return self

    def __init__(self, func=None):
        pass

    def __enter__(self):
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = False


class enable_grad(_GradModeContext):
    """Enable gradient recording inside a no_grad block.

    >>> with ember.no_grad():
    ...     with ember.enable_grad():
    ...         (ember.ones(1, requires_grad=True) * 2).requires_grad
    True
    """

    def __enter__(self):
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = True


class set_grad_enabled(_GradModeContext):
    """Set gradient recording on or off; takes effect at once, and as a context manager restores it.

    >>> with ember.set_grad_enabled(False):
    ...     ember.is_grad_enabled()
    False
    """

    def __init__(self, mode: bool):
        self._args = (mode,)
        self._prev = (STATE.enabled, STATE.inference)
        STATE.enabled = bool(mode)

    def __enter__(self):
        pass


class inference_mode(_GradModeContext):
    """Like no_grad, for inference; ``inference_mode(False)`` does nothing.

    >>> with ember.inference_mode():
    ...     ember.is_inference_mode_enabled()
    True
    """

    def __init__(self, mode: bool = True):
        if callable(mode):
            raise TypeError("use @ember.inference_mode() with parentheses")
        self._args = (mode,)
        self._mode = bool(mode)

    def __enter__(self):
        self._prev = (STATE.enabled, STATE.inference)
        if self._mode:
            STATE.enabled = False
            STATE.inference = True
