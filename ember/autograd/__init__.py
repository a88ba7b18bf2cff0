"""Automatic differentiation: ``backward``, ``grad``, grad-mode switches.

>>> import ember
>>> x = ember.ones(2, requires_grad=True)
>>> ember.autograd.grad((x * 3).sum(), x)
(tensor([3., 3.]),)
"""

from ember.autograd.engine import backward, grad
from ember.autograd.gradcheck import gradcheck, gradgradcheck
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,
                                      set_grad_enabled)

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "gradcheck", "gradgradcheck"]
