"""``ember.random``: seeding and saving the default generator's state, as ``torch.random``.

>>> import ember
>>> with ember.random.fork_rng():
...     _ = ember.rand(3)  # draws here don't advance the stream outside the block
>>> _ = ember.manual_seed(0)
"""

from __future__ import annotations

import contextlib

from ember.ops.random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
                              set_rng_state)

__all__ = ["set_rng_state", "get_rng_state", "manual_seed", "seed", "initial_seed", "fork_rng", "Generator",
           "default_generator"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Run a block with the default generator's state saved and restored afterwards.

    >>> _ = ember.manual_seed(0)
    >>> with ember.random.fork_rng():
    ...     inside = ember.rand(2).tolist()
    >>> ember.rand(2).tolist() == inside
    True
    """
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
