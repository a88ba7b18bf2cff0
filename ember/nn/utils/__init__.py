"""``ember.nn.utils`` (``torch.nn.utils``): gradient clipping, parameter vectors, weight/spectral norm,
parametrizations, conv-bn fusion, and ``rnn`` (packed sequences).

Each file lists its public functions in ``__all__``; they are all exported here.

>>> import ember
>>> ember.nn.utils.parameters_to_vector([ember.ones(2), ember.zeros(1)])
tensor([1., 1., 0.])
"""

from ember._namespaces import import_families as _import_families, lazy_submodules as _lazy_submodules

_FILES = ("clip_grad", "convert_parameters", "weight_norm", "spectral_norm", "fusion")
for _module in _import_families(__name__, _FILES):
    for _name in getattr(_module, "__all__", ()):
        globals()[_name] = getattr(_module, _name)

__getattr__ = _lazy_submodules(__name__, globals(), ("rnn", "parametrize", "parametrizations", "stateless"))
