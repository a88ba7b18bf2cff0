"""``ember.utils``: the helpers of ``torch.utils``. Submodules (``data`` ...) load on first use, so
``import ember`` stays fast.

>>> import ember
>>> ember.utils.data.TensorDataset(ember.arange(3))[1]
(tensor(1),)
"""

from __future__ import annotations

import importlib

from ember.errors import missing


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        module = importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise missing(__name__, name) from None
    globals()[name] = module
    return module
