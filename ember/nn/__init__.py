"""``ember.nn``: neural-network building blocks (``torch.nn``): Module, Parameter, layers, init, utils.

>>> import ember
>>> ember.nn.functional.relu(ember.tensor([-1.0]))
tensor([0.])
"""

from ember._namespaces import import_families as _import_families, lazy_submodules as _lazy_submodules

from ember.nn import functional  # noqa: F401
from ember.nn.module import Module, register_module_forward_hook, register_module_forward_pre_hook  # noqa: F401
from ember.nn.parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401

# Layer families: each module lists its classes in __all__; all are exported here.
_LAYER_FAMILIES = ("container", "linear", "activation", "conv", "pooling", "normalization", "dropout", "sparse",
                   "rnn", "transformer", "loss", "padding", "pixelshuffle", "upsampling", "distance", "flatten", "fold")
for _module in _import_families("ember.nn.modules", _LAYER_FAMILIES):
    for _name in getattr(_module, "__all__", ()):
        globals()[_name] = getattr(_module, _name)

__getattr__ = _lazy_submodules(__name__, globals(), ("init", "utils", "parameter", "modules", "parallel", "attention"))
