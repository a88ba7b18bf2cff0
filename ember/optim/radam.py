"""RAdam: Adam with a rectified adaptive learning rate, as ``torch.optim.RAdam``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0]))
>>> opt = ember.optim.RAdam([w], lr=0.1)
>>> w.grad = ember.tensor([2.0]); opt.step(); w
Parameter containing:
tensor([0.8000], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.optim.adam import _check_betas
from ember.optim.optimizer import (Optimizer, _check_fused_foreach, _check_lr, _evaluate_closure,
                                   _lerp_, _mul_addcmul_, _new_step_tensor, _use_grad_for_differentiable, _value,
                                   _zeros_like)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam, as ``torch.optim.RAdam``: the adaptive step is used only once the variance of the adaptive learning
    rate is tractable (``rho_t > 5``); before that the update is bias-corrected momentum SGD.

    ``decoupled_weight_decay=True`` applies weight decay to the parameter (RAdamW).

    >>> w = ember.nn.Parameter(ember.tensor([1.0]))
    >>> opt = ember.optim.RAdam([w], lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)
    >>> w.grad = ember.tensor([1.0]); opt.step(); sorted(opt.state[w])
    ['exp_avg', 'exp_avg_sq', 'step']
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_fused_foreach("RAdam", None, foreach, differentiable, fused_supported=False)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    # what a pickled optimizer from an older version lacks (torch's __setstate__ fills the same in)
    _group_defaults_on_unpickle = {"foreach": None, "maximize": False, "differentiable": False,
                                   "decoupled_weight_decay": False, "capturable": False}

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one RAdam update; returns ``closure()``'s loss when a closure is given."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr = _value(group["lr"])
            weight_decay = group["weight_decay"]
            eps = group["eps"]
            decoupled = group["decoupled_weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step_tensor()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                param = p._data
                step_data = state["step"]._data
                step_data += 1
                step = float(step_data)
                if decoupled:
                    grad = self._effective_grad(p, group["maximize"], 0)
                    if weight_decay != 0:
                        param *= 1 - lr * weight_decay
                else:
                    grad = self._effective_grad(p, group["maximize"], weight_decay)
                work, update = self._work(param, 0), self._work(param, 1)
                exp_avg = state["exp_avg"]._data
                exp_avg_sq = state["exp_avg_sq"]._data
                _lerp_(exp_avg, grad, 1 - beta1, work)
                _mul_addcmul_(exp_avg_sq, beta2, grad, 1 - beta2, work)

                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                np.divide(exp_avg, bias_correction1, out=update)
                update *= lr
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    np.sqrt(exp_avg_sq, out=work)
                    work += eps
                    np.divide(bias_correction2 ** 0.5, work, out=work)
                    update *= work
                    update *= rect
                param -= update
                p._version.value += 1
        return loss
