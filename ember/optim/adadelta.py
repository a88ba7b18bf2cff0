"""Adadelta, as ``torch.optim.Adadelta``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0]))
>>> opt = ember.optim.Adadelta([w], lr=1.0)
>>> w.grad = ember.tensor([1.0]); opt.step(); w
Parameter containing:
tensor([0.9968], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.optim.optimizer import (Optimizer, _check_fused_foreach, _check_lr, _evaluate_closure,
                                   _mul_addcmul_, _new_step_tensor, _use_grad_for_differentiable, _value,
                                   _zeros_like)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta``: steps scaled by the ratio of running RMS of updates and gradients.

    >>> w = ember.nn.Parameter(ember.tensor([1.0]))
    >>> opt = ember.optim.Adadelta([w], rho=0.95, weight_decay=0.1)
    >>> w.grad = ember.tensor([1.0]); opt.step(); sorted(opt.state[w])
    ['acc_delta', 'square_avg', 'step']
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_fused_foreach("Adadelta", None, foreach, differentiable, fused_supported=False)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    # what a pickled optimizer from an older version lacks (torch's __setstate__ fills the same in)
    _group_defaults_on_unpickle = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one Adadelta update; returns ``closure()``'s loss when a closure is given."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr = _value(group["lr"])
            rho = group["rho"]
            eps = group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    state["acc_delta"] = _zeros_like(p)
                state["step"]._data += 1
                grad = self._effective_grad(p, group["maximize"], group["weight_decay"])
                work, std, delta = self._work(p._data, 0), self._work(p._data, 1), self._work(p._data, 3)
                square_avg = state["square_avg"]._data
                acc_delta = state["acc_delta"]._data
                _mul_addcmul_(square_avg, rho, grad, 1 - rho, work)
                np.add(square_avg, eps, out=std)
                np.sqrt(std, out=std)
                np.add(acc_delta, eps, out=delta)
                np.sqrt(delta, out=delta)
                delta /= std
                delta *= grad
                _mul_addcmul_(acc_delta, rho, delta, 1 - rho, work)
                np.multiply(delta, -lr, out=work)
                p._data += work
                p._version.value += 1
        return loss
