"""``ember.nn.functional``: the neural-network ops (``torch.nn.functional``), collected from the op
families in ``_FAMILIES`` (and ``pad`` from the movement family, ``linear`` and ``bilinear`` from the products
family).

>>> import ember
>>> import ember.nn.functional as F
>>> F.relu(ember.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""

from __future__ import annotations

import importlib

from ember._namespaces import import_families

_FAMILIES = ("activation", "loss", "normalization", "convolution", "pooling", "resampling", "embedding", "distance",
             "recurrent", "attention")
_NAMES = []
# families not yet on generated forms list their functional names by hand
for _module in import_families("ember.ops", _FAMILIES):
    for _name in getattr(_module, "FUNCTIONAL", getattr(_module, "__all__", ())):
        globals()[_name] = getattr(_module, _name)
        _NAMES.append(_name)
for _name, _function in importlib.import_module("ember.ops.registry").FUNCTIONAL.items():
    globals()[_name] = _function
    _NAMES.append(_name)

# torch.nn.functional also exposes a few plain elementwise ops.
_ops = importlib.import_module("ember.ops")
for _name in ("sigmoid", "tanh"):
    globals()[_name] = getattr(_ops, _name)
    _NAMES.append(_name)

__all__ = list(_NAMES)


def __getattr__(name):
    from ember.errors import missing
    raise missing(__name__, name)
