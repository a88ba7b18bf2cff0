"""``ember.nn.utils`` (``torch.nn.utils``): gradient clipping, parameter vectors, weight/spectral norm,
parametrizations, conv-bn fusion, and ``rnn`` (packed sequences).

Each file lists its public functions in ``__all__``; they are all exported here.

>>> import ember
>>> ember.nn.utils.parameters_to_vector([ember.ones(2), ember.zeros(1)])
tensor([1., 1., 0.])
"""

import importlib as _importlib

from ember.errors import missing as _missing

_FILES = ("clip_grad", "convert_parameters", "weight_norm", "spectral_norm", "fusion")
for _file in _FILES:
    try:
        _module = _importlib.import_module(f"ember.nn.utils.{_file}")
    except ModuleNotFoundError as _e:
        if _e.name != f"ember.nn.utils.{_file}":
            raise
        continue
    for _name in getattr(_module, "__all__", ()):
        globals()[_name] = getattr(_module, _name)

_SUBMODULES = ("rnn", "parametrize", "parametrizations", "stateless")


def __getattr__(name):
    if name in _SUBMODULES:
        try:
            module = _importlib.import_module(f"ember.nn.utils.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"ember.nn.utils.{name}":
                raise
            raise _missing(__name__, name) from None
        globals()[name] = module
        return module
    raise _missing(__name__, name)
