"""Machinery behind :class:`~ember.utils.data.DataLoader` (as ``torch.utils.data._utils``): collation, fetching,
and the worker-process loop.

>>> from ember.utils.data import _utils
>>> _utils.MP_STATUS_CHECK_INTERVAL
5.0
"""

from __future__ import annotations

import sys

IS_WINDOWS = sys.platform == "win32"

SHUTDOWN_GRACE_PERIOD = 1.0
"""Seconds a worker busy with a sample gets to notice shutdown before it is terminated."""

python_exit_status = False
"""Set once the interpreter starts shutting down: worker shutdown is then left to multiprocessing's own exit hook,
because the queues and pipes it would use may already be torn down."""

HAS_NUMPY = True


def _set_python_exit_flag() -> None:
    global python_exit_status
    python_exit_status = True


from ember.utils.data._utils import collate, fetch, worker  # noqa: E402
# MP_STATUS_CHECK_INTERVAL belongs to the worker loop; the main process reads it here, as in PyTorch.
from ember.utils.data._utils.worker import MP_STATUS_CHECK_INTERVAL, ExceptionWrapper  # noqa: E402

__all__ = ["collate", "fetch", "worker", "ExceptionWrapper", "MP_STATUS_CHECK_INTERVAL", "IS_WINDOWS"]

_exit_flag_registered = False


def _register_python_exit_flag() -> None:
    """Register the exit hook, after ``multiprocessing`` is imported so it runs before multiprocessing's own
    (atexit runs hooks last-in first-out): the workers are then terminated by that hook, not by a shutdown
    that talks to half-finalised queues."""
    global _exit_flag_registered
    if not _exit_flag_registered:
        import atexit
        atexit.register(_set_python_exit_flag)
        _exit_flag_registered = True
