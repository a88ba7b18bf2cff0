"""``OptimizedModule``: what ``ember.compile(module)`` returns, as torch's: it calls the compiled forward and
otherwise behaves as the original module (parameters, ``train()``/``eval()``, attributes), which it holds
as ``_orig_mod``.

>>> import ember
>>> m = ember.compile(ember.nn.Linear(2, 1))
>>> type(m).__name__, m.in_features, list(m.state_dict())[0]
('OptimizedModule', 2, '_orig_mod.weight')
"""

from __future__ import annotations

from ember.nn import Module

__all__ = ["OptimizedModule"]


class OptimizedModule(Module):
    """Wraps a module; calling it runs the compiled graph of the wrapped module's ``__call__``."""

    def __init__(self, module, compiled):
        super().__init__()
        self._orig_mod = module
        object.__setattr__(self, "_compiled_call", compiled)

    def forward(self, *args, **kwargs):
        return self._compiled_call(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)
