"""Errors a user can act on: the op, the shapes and dtypes, and the user's own line.

>>> import ember
>>> try:
...     ember.ones(2, 3) + ember.ones(4)
... except RuntimeError as e:
...     print(str(e).splitlines()[0])
add: shapes (2, 3) and (4,) cannot be broadcast: dimension -1 is 3 in one and 4 in the other
"""

from __future__ import annotations

import linecache
import os
import sys

__all__ = ["user_frame", "op_error", "MissingFeatureError"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_frame():
    """The innermost stack frame outside the ember package: the line of the user's code."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIR) and "<frozen" not in filename:
            return frame
        frame = frame.f_back
    return None


def describe_user_line() -> str:
    frame = user_frame()
    if frame is None:
        return ""
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    code = linecache.getline(filename, lineno).strip()
    where = f"{filename}:{lineno}"
    return f"\n  called from {where}" + (f": {code}" if code else "")


def op_error(exc_type, op_name: str, message: str) -> Exception:
    """Build an exception whose message starts with the op and ends with the caller's line."""
    return exc_type(f"{op_name}: {message}{describe_user_line()}")


def broadcast_message(shapes) -> str:
    """Explain which dimension of which shapes cannot broadcast."""
    shapes = [tuple(s) for s in shapes]
    ndim = max((len(s) for s in shapes), default=0)
    for i in range(1, ndim + 1):
        sizes = {s[-i] for s in shapes if len(s) >= i and s[-i] != 1}
        if len(sizes) > 1:
            a, b = sorted(sizes)[:2]
            listed = " and ".join(str(s) for s in shapes)
            return f"shapes {listed} cannot be broadcast: dimension -{i} is {a} in one and {b} in the other"
    return "shapes " + " and ".join(str(s) for s in shapes) + " cannot be broadcast"


class MissingFeatureError(NotImplementedError, AttributeError):
    """A PyTorch API that Ember does not implement (yet).

    It is a ``NotImplementedError`` (what a user should catch) and an ``AttributeError`` (so ``hasattr`` and
    ``getattr(module, name, default)`` keep working on ``ember`` modules).

    >>> import ember
    >>> try:
    ...     ember.nn.NoSuchLayer
    ... except NotImplementedError as e:
    ...     print(e)
    torch.nn.NoSuchLayer is not implemented in Ember
    >>> hasattr(ember.nn, "NoSuchLayer")
    False
    """


def missing(module_name: str, name: str) -> MissingFeatureError:
    """The error for ``module_name.name`` when Ember lacks it, spelled with torch's module name."""
    torch_name = "torch" + module_name[len("ember"):] if module_name.startswith("ember") else module_name
    return MissingFeatureError(f"{torch_name}.{name} is not implemented in Ember")
