"""Devices. Ember computes on the CPU through NumPy; the device model leaves room for further backends.

>>> import ember
>>> ember.device("cpu")
device(type='cpu')
>>> ember.zeros(2).to("cpu").device
device(type='cpu')
"""

from __future__ import annotations

__all__ = ["device"]

_KNOWN_TYPES = ("cpu", "cuda", "mps", "meta", "xpu")
_AVAILABLE = ("cpu",)


class device:
    """Where a tensor's data lives: ``device("cpu")``, ``device("cuda", 0)`` (not available yet).

    >>> ember.device("cpu:0").index
    0
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string like 'cpu', got {type!r}")
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: "
                                   f"{type}")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: {type + ':' + idx!r}; expected e.g. 'cpu' or 'cuda:0'")
            index = int(idx)
        if type not in _KNOWN_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN_TYPES)} device type at start of device string: {type}")
        self.type = type
        self.index = index

    def __repr__(self):
        return f"device(type={self.type!r})" if self.index is None else f"device(type={self.type!r}, index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


def to_device(value) -> device:
    """Normalize a device argument and check it can be used here."""
    if value is None:
        return CPU
    if isinstance(value, device):
        d = value
    elif isinstance(value, int):
        d = device("cuda", value)
    else:
        d = device(str(value)) if not isinstance(value, str) else device(value)
    if d.type not in _AVAILABLE:
        raise RuntimeError(f"device {str(d)!r} is not available: Ember computes on the CPU with NumPy "
                           f"(use device='cpu'; ember.cuda.is_available() is False)")
    return CPU
