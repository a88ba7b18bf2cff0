"""RMSprop, as ``torch.optim.RMSprop``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0]))
>>> opt = ember.optim.RMSprop([w], lr=0.01)
>>> w.grad = ember.tensor([1.0]); opt.step(); w
Parameter containing:
tensor([0.9000], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.optim.optimizer import (Optimizer, _check_fused_foreach, _check_lr, _evaluate_closure,
                                   _lerp_, _mul_addcmul_, _new_step_tensor, _use_grad_for_differentiable,
                                   _value, _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop, as ``torch.optim.RMSprop``: divide the gradient by a running root mean square of its history.

    ``centered`` subtracts the squared running mean of the gradient (an estimate of its variance);
    ``momentum`` accumulates ``g / avg`` in a buffer that is then applied.

    >>> w = ember.nn.Parameter(ember.tensor([1.0]))
    >>> opt = ember.optim.RMSprop([w], lr=0.01, momentum=0.9, centered=True)
    >>> w.grad = ember.tensor([1.0]); opt.step(); sorted(opt.state[w])
    ['grad_avg', 'momentum_buffer', 'square_avg', 'step']
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False) -> None:
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_fused_foreach("RMSprop", None, foreach, differentiable, fused_supported=False)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    # what a pickled optimizer from an older version lacks (torch's __setstate__ fills the same in)
    _group_defaults_on_unpickle = {"momentum": 0, "centered": False, "foreach": None, "maximize": False,
                                   "differentiable": False, "capturable": False}

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one RMSprop update; returns ``closure()``'s loss when a closure is given."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr = _value(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            momentum = group["momentum"]
            centered = group["centered"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step_tensor()
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                state["step"]._data += 1
                grad = self._effective_grad(p, group["maximize"], group["weight_decay"])
                work, avg = self._work(p._data, 0), self._work(p._data, 1)
                square_avg = state["square_avg"]._data
                _mul_addcmul_(square_avg, alpha, grad, 1 - alpha, work)
                if centered:
                    grad_avg = state["grad_avg"]._data
                    _lerp_(grad_avg, grad, 1 - alpha, work)
                    np.multiply(grad_avg, -1, out=avg)
                    avg *= grad_avg
                    avg += square_avg
                    np.sqrt(avg, out=avg)
                else:
                    np.sqrt(square_avg, out=avg)
                avg += eps
                if momentum > 0:
                    buffer = state["momentum_buffer"]._data
                    buffer *= momentum
                    np.divide(grad, avg, out=work)
                    buffer += work
                    np.multiply(buffer, -lr, out=work)
                else:
                    np.multiply(grad, -lr, out=work)
                    work /= avg
                p._data += work
                p._version.value += 1
        return loss
