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
import warnings

from ember.autograd.engine import AnomalyMode

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled"]


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
