"""Adagrad, as ``torch.optim.Adagrad``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0]))
>>> opt = ember.optim.Adagrad([w], lr=0.1)
>>> w.grad = ember.tensor([2.0]); opt.step(); w
Parameter containing:
tensor([0.9000], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.optim.optimizer import (Optimizer, _check_floating_params_for_fused, _check_fused_foreach, _check_lr,
                                   _evaluate_closure, _full_like, _new_step_tensor,
                                   _use_grad_for_differentiable, _value)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``: per-coordinate steps ``lr / sqrt(sum of squared gradients)``.

    ``lr_decay`` scales the step by ``1 / (1 + (t - 1) * lr_decay)``; the accumulator starts at
    ``initial_accumulator_value``. State is created for every parameter at construction, as in PyTorch.
    ``foreach``/``fused`` are accepted (same update).

    >>> w = ember.nn.Parameter(ember.tensor([1.0]))
    >>> opt = ember.optim.Adagrad([w], lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5)
    >>> opt.state[w]["sum"]
    tensor([0.5000])
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None) -> None:
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_fused_foreach("Adagrad", fused, foreach, differentiable, fused_supported=True)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        if fused:
            _check_floating_params_for_fused(self)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _new_step_tensor(0.0, group["fused"])
                state["sum"] = _full_like(p, initial_accumulator_value)

    # what a pickled optimizer from an older version lacks (torch's __setstate__ fills the same in)
    _group_defaults_on_unpickle = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}

    def share_memory(self) -> None:
        """Accepted for compatibility: state lives in this process's memory."""

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one Adagrad update; returns ``closure()``'s loss when a closure is given."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr = _value(group["lr"])
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step_tensor(0.0, group["fused"])
                    state["sum"] = _full_like(p, self.defaults["initial_accumulator_value"])
                step_data = state["step"]._data
                step_data += 1
                step = float(step_data)
                grad = self._effective_grad(p, group["maximize"], group["weight_decay"])
                work, std = self._work(p._data, 0), self._work(p._data, 1)
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = state["sum"]._data
                np.multiply(grad, grad, out=work)
                state_sum += work
                np.sqrt(state_sum, out=std)
                std += eps
                np.multiply(grad, -clr, out=work)
                work /= std
                p._data += work
                p._version.value += 1
        return loss
