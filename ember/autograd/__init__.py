"""Automatic differentiation: ``backward``, ``grad``, custom ``Function``, ``functional`` derivatives,
grad-mode switches, anomaly detection and gradient checks.

>>> import ember
>>> x = ember.ones(2, requires_grad=True)
>>> ember.autograd.grad((x * 3).sum(), x)
(tensor([3., 3.]),)
"""

from ember.autograd import functional
from ember.autograd.anomaly_mode import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from ember.autograd.engine import backward, grad
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
