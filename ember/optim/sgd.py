"""Stochastic gradient descent (with momentum, dampening, Nesterov), as ``torch.optim.SGD``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0, -1.0]))
>>> opt = ember.optim.SGD([w], lr=0.1, momentum=0.9)
>>> for _ in range(2):
...     opt.zero_grad()
...     (w ** 2).sum().backward()
...     opt.step()
>>> w
Parameter containing:
tensor([ 0.4600, -0.4600], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.optim.optimizer import (_fused_update, Optimizer, _check_floating_params_for_fused, _check_fused_foreach, _check_lr,
                                   _evaluate_closure, _use_grad_for_differentiable, _value)
from ember.tensor import from_array

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, as ``torch.optim.SGD``.

    With momentum ``mu`` and dampening ``tau``: ``b = mu * b + (1 - tau) * g`` (``b = g`` on the first step), the
    update direction is ``g + mu * b`` with ``nesterov`` and ``b`` otherwise, and ``p -= lr * direction``.
    ``weight_decay`` adds ``weight_decay * p`` to the gradient; ``maximize`` ascends instead.
    ``foreach=True`` and ``fused=True`` are accepted and run the same NumPy update as the default.

    >>> w = ember.nn.Parameter(ember.tensor([2.0]))
    >>> opt = ember.optim.SGD([w], lr=0.25, weight_decay=1.0)
    >>> w.grad = ember.tensor([1.0]); opt.step(); w
    Parameter containing:
    tensor([1.2500], requires_grad=True)
    """

    # ember/kernels/optimizer.c's update that mirrors step() (the compile extra); see _fused_update
    fused_kernel = "sgd"

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize: bool = False, foreach=None, differentiable: bool = False, fused=None) -> None:
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach, "differentiable": differentiable,
                    "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_fused_foreach("SGD", fused, foreach, differentiable, fused_supported=True)
        super().__init__(params, defaults)
        if fused:
            _check_floating_params_for_fused(self)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one update; returns ``closure()``'s loss when a closure is given.

        >>> w = ember.nn.Parameter(ember.tensor([1.0])); opt = ember.optim.SGD([w], lr=0.5)
        >>> def closure():
        ...     opt.zero_grad(); loss = (w * w).sum(); loss.backward(); return loss
        >>> opt.step(closure)
        tensor(1., grad_fn=<SumBackward0>)
        """
        loss = _evaluate_closure(closure)
        if _fused_update(self):
            return loss
        for group in self.param_groups:
            lr = _value(group["lr"])
            weight_decay = _value(group["weight_decay"])
            momentum = _value(group["momentum"])
            dampening = _value(group["dampening"])
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            state = self.state
            for p in group["params"]:
                if p.grad is None:
                    continue
                param = p._data
                grad = self._effective_grad(p, maximize, weight_decay)
                work = self._work(param)
                if momentum != 0:
                    param_state = state[p]
                    buffer = param_state.get("momentum_buffer")
                    if buffer is None:
                        buffer = from_array(np.array(grad))
                        param_state["momentum_buffer"] = buffer
                    else:
                        buffer_data = buffer._data
                        buffer_data *= momentum
                        if dampening == 0:
                            buffer_data += grad
                        else:
                            np.multiply(grad, 1 - dampening, out=work)
                            buffer_data += work
                        buffer._version.value += 1
                    if nesterov:
                        np.multiply(buffer._data, momentum, out=work)
                        work += grad
                        grad = work
                    else:
                        grad = buffer._data
                np.multiply(grad, lr, out=work)
                param -= work
                p._version.value += 1
        return loss
