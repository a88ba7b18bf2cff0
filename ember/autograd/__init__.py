"""Automatic differentiation: ``backward``, ``grad``, custom ``Function``, ``functional`` derivatives,
grad-mode switches, anomaly detection and gradient checks.

What lives where:

- ``engine.py``: the graph (``Node``, ``AccumulateGrad``, ``edge_of``) and the backward pass
  (``run_backward``). Read it first; it imports nothing from ``ember.ops``.
- ``differentiate.py``: ``backward`` and ``grad``, which seed the gradients and run the engine.
- ``views.py``: how a view was taken (``ViewRecord``), the rules for writing into one in place, and the
  graph after such a write (``CopySlices``); the dispatcher calls ``link_view`` for every view op.
- ``saved_tensors.py``: what a node saved for backward, and the errors when it was written since or freed.
- ``hooks.py``: removable handles and hook dicts (also used by ``nn`` and ``optim``), tensor hooks,
  ``retain_grad``.
- ``ownership.py``: when a leaf's first gradient may become its ``.grad`` without a copy.
- ``anomaly_mode.py``: ``detect_anomaly``, the forward stack a node records, the NaN check.
- ``grad_mode.py``: ``no_grad`` and friends; ``function.py``: custom ``Function``; ``functional.py``:
  jacobian, hessian, vjp ...; ``gradcheck.py``: numerical gradient checks.

>>> import ember
>>> x = ember.ones(2, requires_grad=True)
>>> ember.autograd.grad((x * 3).sum(), x)
(tensor([3., 3.]),)
"""

from ember.autograd import functional
from ember.autograd.anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from ember.autograd.differentiate import backward, grad
from ember.autograd.function import Function, FunctionCtx, once_differentiable
from ember.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                      set_grad_enabled)

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "functional", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled", "gradcheck", "gradgradcheck",
           "GradcheckError", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


def __getattr__(name):
    from ember.errors import missing
    raise missing(__name__, name)
