"""Anomaly detection: find the forward op (and your line) whose backward produced NaN.

>>> import ember
>>> x = ember.tensor([0.0], requires_grad=True)
>>> with ember.autograd.detect_anomaly():
...     y = ember.sqrt(x) * 0          # d/dx sqrt(x) at 0 is inf; inf * 0 = nan
...     try:
...         y.backward()
...     except RuntimeError as e:
...         print(str(e).splitlines()[0])
Function 'SqrtBackward0' returned nan values in its 0th output.
"""

from __future__ import annotations

import functools
import os
import traceback
import warnings

import numpy as np

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


class AnomalyMode:
    """The switches the engine reads: record each node's forward stack, check each backward for NaN.

    >>> AnomalyMode.enabled, AnomalyMode.check_nan
    (False, True)
    """

    enabled = False
    check_nan = True


def capture_trace():
    """The forward stack of the op being recorded, as ``traceback.format_stack`` lines (called by ``Node``).

    The last four frames (this function, ``Node.__init__``, dispatch and the op's call) are left out.

    >>> all(line.lstrip().startswith("File") for line in capture_trace())
    True
    """
    return traceback.format_stack()[:-4]


def anomaly_origin(node) -> str:
    """Where ``node``'s forward op was called (the user's line) and the stack that made it, for an error.

    >>> anomaly_origin((ember.ones(1, requires_grad=True) * 2).grad_fn)
    '(enable ember.autograd.detect_anomaly() to see the forward call that made this node)'
    """
    if node.trace is None:
        return "(enable ember.autograd.detect_anomaly() to see the forward call that made this node)"
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    user = [line for line in node.trace if package not in line]
    where = user[-1].strip() if user else "".join(node.trace[-1:]).strip()
    return (f"The forward op was '{node.op.name}', called at:\n  {where}\n"
            "Traceback of forward call that caused the error:\n" + "".join(node.trace))


def check_for_nan(node, gradients) -> None:
    """Raise, naming ``node`` and where its forward op was called, if a floating gradient it returned has NaN.

    >>> y = ember.ones(1, requires_grad=True) * 2
    >>> try:
    ...     check_for_nan(y.grad_fn, (ember.tensor([float("nan")]), None))
    ... except RuntimeError as e:
    ...     print(str(e).splitlines()[0])
    Function 'MulBackward0' returned nan values in its 0th output.
    """
    for i, g in enumerate(gradients):
        if g is not None and g._dtype.category == 2 and np.isnan(g._data).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.\n"
                               f"{anomaly_origin(node)}")


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on.

    >>> ember.autograd.is_anomaly_enabled()
    False
    """
    return AnomalyMode.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return AnomalyMode.check_nan


class detect_anomaly:
    """Context manager (and decorator) that records each op's forward stack and checks backward for NaN.

    A NaN gradient raises a RuntimeError naming the op whose backward made it and the line of your code
    that called that op in forward. It slows everything down: use it to debug, not to train.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self._prev = (AnomalyMode.enabled, AnomalyMode.check_nan)
        AnomalyMode.enabled = True
        AnomalyMode.check_nan = self.check_nan

    def __exit__(self, *exc):
        AnomalyMode.enabled, AnomalyMode.check_nan = self._prev
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return func(*args, **kwargs)
        return wrapper


class set_detect_anomaly:
    """Turn anomaly detection on or off (takes effect at once; as a context manager, restores on exit).

    >>> with ember.autograd.set_detect_anomaly(True):
    ...     ember.autograd.is_anomaly_enabled()
    True
    """

    def __init__(self, mode: bool, check_nan: bool = True):
        self._prev = (AnomalyMode.enabled, AnomalyMode.check_nan)
        AnomalyMode.enabled = bool(mode)
        AnomalyMode.check_nan = check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        AnomalyMode.enabled, AnomalyMode.check_nan = self._prev
        return False
