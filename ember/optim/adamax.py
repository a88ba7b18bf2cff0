"""Adamax: Adam with the infinity norm, as ``torch.optim.Adamax``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0]))
>>> opt = ember.optim.Adamax([w], lr=0.1)
>>> w.grad = ember.tensor([2.0]); opt.step(); w
Parameter containing:
tensor([0.9000], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.optim.adam import _check_betas
from ember.optim.optimizer import (Optimizer, _check_fused_foreach, _check_lr, _evaluate_closure,
                                   _lerp_, _new_step_tensor, _use_grad_for_differentiable, _value, _zeros_like)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (Adam with the infinity norm), as ``torch.optim.Adamax``.

    ``exp_inf = max(beta2 * exp_inf, |g| + eps)`` replaces Adam's second moment, and
    ``p -= lr / (1 - beta1**t) * exp_avg / exp_inf``. ``foreach``/``capturable`` are accepted (same update).

    >>> w = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    >>> opt = ember.optim.Adamax([w], lr=0.01, weight_decay=0.1, maximize=True)
    >>> w.grad = ember.tensor([1.0, -1.0]); opt.step(); sorted(opt.state[w])
    ['exp_avg', 'exp_inf', 'step']
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_fused_foreach("Adamax", None, foreach, differentiable, fused_supported=False)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    # what a pickled optimizer from an older version lacks (torch's __setstate__ fills the same in)
    _group_defaults_on_unpickle = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one Adamax update; returns ``closure()``'s loss when a closure is given."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr = _value(group["lr"])
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_inf"] = _zeros_like(p)
                step_data = state["step"]._data
                step_data += 1
                grad = self._effective_grad(p, group["maximize"], weight_decay)
                work = self._work(p._data)
                exp_avg = state["exp_avg"]._data
                exp_inf = state["exp_inf"]._data
                _lerp_(exp_avg, grad, 1 - beta1, work)
                exp_inf *= beta2
                np.abs(grad, out=work)
                work += eps
                np.maximum(exp_inf, work, out=exp_inf)
                clr = lr / (1 - beta1 ** float(step_data))
                np.multiply(exp_avg, -clr, out=work)
                work /= exp_inf
                p._data += work
                p._version.value += 1
        return loss
