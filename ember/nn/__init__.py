"""``ember.nn``: neural-network building blocks (``torch.nn``): Module, Parameter, layers, init, utils.

>>> import ember
>>> ember.nn.functional.relu(ember.tensor([-1.0]))
tensor([0.])
"""

import importlib as _importlib

from ember.errors import missing as _missing

from ember.nn import functional  # noqa: F401
from ember.nn.module import Module, register_module_forward_hook, register_module_forward_pre_hook  # noqa: F401
from ember.nn.parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401

# Layer families: each module lists its classes in __all__; all are exported here.
_LAYER_FAMILIES = ("container", "linear", "activation", "conv", "pooling", "normalization", "dropout", "sparse",
                   "rnn", "transformer", "loss", "padding", "pixelshuffle", "upsampling", "distance", "flatten", "fold")
for _family in _LAYER_FAMILIES:
    try:
        _module = _importlib.import_module(f"ember.nn.modules.{_family}")
    except ModuleNotFoundError as _e:
        if _e.name != f"ember.nn.modules.{_family}":
            raise
        continue
    for _name in getattr(_module, "__all__", ()):
        globals()[_name] = getattr(_module, _name)


def __getattr__(name):
    if name in ("init", "utils", "parameter", "modules", "parallel", "attention"):
        try:
            module = _importlib.import_module(f"ember.nn.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"ember.nn.{name}":
                raise
            raise _missing(__name__, name) from None
        globals()[name] = module
        return module
    raise _missing(__name__, name)
