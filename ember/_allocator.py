"""Keep freed memory for reuse instead of returning it to the OS after every op (glibc only).

NumPy takes each large array straight from the OS (mmap) and hands it back when it is freed, so the next op
of the same size pays a page fault on every page of a fresh array. Training loops allocate the same sizes step
after step, and on some machines those faults cost more than the arithmetic (measured here: layer_norm
forward+backward on 2048x256 took about 7 ms with them, 1.9 ms without). Raising glibc's mmap and trim
thresholds keeps such arrays in the heap for reuse, as PyTorch's caching allocator does for its tensors.

Set ``EMBER_MALLOC_TUNING=0`` to leave the allocator alone.

>>> from ember import _allocator
>>> _allocator.tune() in (True, False)
True
"""

from __future__ import annotations

import sys

from ember import flags

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 64 << 20  # arrays below 64 MiB come from the reusable heap
_TRIM_THRESHOLD = 256 << 20  # up to 256 MiB of freed heap stays mapped for the next step


def tune() -> bool:
    """Apply the thresholds once per process; returns whether glibc accepted them."""
    if not flags.MALLOC_TUNING.enabled() or not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to tune
        return False
