"""``ember.linalg``: PyTorch's ``torch.linalg`` namespace.

The functions live in their op families (``ember/ops/decompositions.py``; ``matmul``, ``multi_dot`` and
``vecdot`` in ``ember/ops/products.py``), whose definitions place them here with a dotted name
(``names = ("linalg.inv",)``); this module gathers them from the registry.

>>> import ember
>>> A = ember.tensor([[4.0, 2.0], [2.0, 3.0]])
>>> ember.linalg.det(A)
tensor(8.)
>>> ember.linalg.solve(A, ember.tensor([6.0, 5.0]))
tensor([1., 1.])
>>> ember.linalg.norm(ember.tensor([3.0, 4.0]))
tensor(5.)
"""

from __future__ import annotations

from ember.ops import decompositions as _decompositions
from ember.ops import registry as _registry

LinAlgError = _decompositions.LinAlgError

# every function an op definition places in the linalg namespace ("linalg.inv" in its names)
globals().update(_registry.NAMESPACES["linalg"])
__all__ = ["LinAlgError", *_registry.NAMESPACES["linalg"]]


def __getattr__(name):
    from ember.errors import missing
    raise missing(__name__, name)
