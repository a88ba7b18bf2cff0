"""Rprop (resilient backpropagation), as ``torch.optim.Rprop``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0, 1.0]))
>>> opt = ember.optim.Rprop([w], lr=0.1)
>>> w.grad = ember.tensor([3.0, -0.5]); opt.step(); w
Parameter containing:
tensor([0.9000, 1.1000], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.optim.optimizer import (Optimizer, _check_fused_foreach, _check_lr, _evaluate_closure, _new_step_tensor,
                                   _use_grad_for_differentiable, _value, _zeros_like)
from ember.tensor import from_array

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop, as ``torch.optim.Rprop``: each coordinate moves by its own step size along the gradient's sign.

    The step size grows by ``etas[1]`` while the gradient keeps its sign and shrinks by ``etas[0]`` when it flips
    (that step is then skipped), clamped to ``step_sizes = (min, max)``.

    >>> w = ember.nn.Parameter(ember.tensor([1.0]))
    >>> opt = ember.optim.Rprop([w], lr=0.1, etas=(0.4, 1.5), step_sizes=(0.01, 1.0))
    >>> for g in (1.0, 1.0, -1.0):
    ...     w.grad = ember.tensor([g]); opt.step()
    >>> opt.state[w]["step_size"]
    tensor([0.0600])
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_fused_foreach("Rprop", None, foreach, differentiable, fused_supported=False)
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    # what a pickled optimizer from an older version lacks (torch's __setstate__ fills the same in)
    _group_defaults_on_unpickle = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one Rprop update; returns ``closure()``'s loss when a closure is given."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad._data
                if group["maximize"]:
                    grad = -grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step_tensor()
                    state["prev"] = _zeros_like(p)
                    state["step_size"] = from_array(np.full_like(grad, _value(group["lr"])))
                state["step"]._data += 1
                prev = state["prev"]._data
                step_size = state["step_size"]._data
                # A 0-d array keeps masked assignment working where NumPy would hand back a scalar.
                sign = np.asarray(np.sign(grad * prev))
                sign[sign > 0] = etaplus
                sign[sign < 0] = etaminus
                sign[sign == 0] = 1
                step_size *= sign
                np.clip(step_size, step_size_min, step_size_max, out=step_size)
                grad = np.array(grad)
                grad[sign == sign.dtype.type(etaminus)] = 0
                update = np.sign(grad)
                update *= step_size
                p._data -= update
                prev[...] = grad
                p._version.value += 1
        return loss
