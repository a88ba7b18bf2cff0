"""``ember.nn.functional``: the neural-network ops (``torch.nn.functional``): every definition registered
with ``functional = True`` (or a ``"nn.functional.<name>"`` name), from whichever op family defines it.

>>> import ember
>>> import ember.nn.functional as F
>>> F.relu(ember.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""

from __future__ import annotations

import importlib

_registry = importlib.import_module("ember.ops.registry")  # filled by ember.ops, which `import ember` ran
# torch.nn.functional also exposes a few plain elementwise ops (without their in-place forms).
_NAMES = {**_registry.FUNCTIONAL, "sigmoid": _registry.PUBLIC["sigmoid"], "tanh": _registry.PUBLIC["tanh"]}
globals().update(_NAMES)
__all__ = list(_NAMES)


def __getattr__(name):
    from ember.errors import missing
    raise missing(__name__, name)
