"""NAdam: Adam with Nesterov momentum, as ``torch.optim.NAdam``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0]))
>>> opt = ember.optim.NAdam([w], lr=0.1)
>>> w.grad = ember.tensor([1.0]); opt.step(); w
Parameter containing:
tensor([0.8944], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.optim.adam import _check_betas
from ember.optim.optimizer import (Optimizer, _check_fused_foreach, _check_lr, _evaluate_closure,
                                   _lerp_, _mul_addcmul_, _new_step_tensor, _use_grad_for_differentiable, _value,
                                   _zeros_like)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam, as ``torch.optim.NAdam``: Adam whose momentum looks ahead, with the momentum schedule
    ``mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))``.

    ``decoupled_weight_decay=True`` gives NAdamW (decay applied to the parameter, as AdamW).

    >>> w = ember.nn.Parameter(ember.tensor([1.0]))
    >>> opt = ember.optim.NAdam([w], lr=0.01, momentum_decay=0.004, weight_decay=0.1, decoupled_weight_decay=True)
    >>> w.grad = ember.tensor([1.0]); opt.step(); sorted(opt.state[w])
    ['exp_avg', 'exp_avg_sq', 'mu_product', 'step']
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_fused_foreach("NAdam", None, foreach, differentiable, fused_supported=False)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    # what a pickled optimizer from an older version lacks (torch's __setstate__ fills the same in)
    _group_defaults_on_unpickle = {"maximize": False, "foreach": None, "capturable": False, "differentiable": False,
                                   "decoupled_weight_decay": False}
    _tensor_state_keys = ("step", "mu_product")

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one NAdam update; returns ``closure()``'s loss when a closure is given."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr = _value(group["lr"])
            weight_decay = group["weight_decay"]
            momentum_decay = group["momentum_decay"]
            eps = group["eps"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step_tensor()
                    state["mu_product"] = _new_step_tensor(1.0)
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                param = p._data
                step_data = state["step"]._data
                step_data += 1
                step = float(step_data)
                bias_correction2 = 1 - beta2 ** step
                if decoupled:
                    grad = self._effective_grad(p, group["maximize"], 0)
                    if weight_decay != 0:
                        param *= 1 - lr * weight_decay
                else:
                    grad = self._effective_grad(p, group["maximize"], weight_decay)
                work, denom = self._work(param, 0), self._work(param, 1)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                # mu_product is a 0-d tensor of the step dtype in PyTorch: it rounds there each step.
                mu_product_data = state["mu_product"]._data
                mu_product_data *= mu
                mu_product = float(mu_product_data)
                mu_product_next = mu_product * mu_next

                exp_avg = state["exp_avg"]._data
                exp_avg_sq = state["exp_avg_sq"]._data
                _lerp_(exp_avg, grad, 1 - beta1, work)
                _mul_addcmul_(exp_avg_sq, beta2, grad, 1 - beta2, work)
                np.divide(exp_avg_sq, bias_correction2, out=denom)
                np.sqrt(denom, out=denom)
                denom += eps
                np.multiply(grad, -lr * (1.0 - mu) / (1.0 - mu_product), out=work)
                work /= denom
                param += work
                np.multiply(exp_avg, (-lr * mu_next) / (1.0 - mu_product_next), out=work)
                work /= denom
                param += work
                p._version.value += 1
        return loss

