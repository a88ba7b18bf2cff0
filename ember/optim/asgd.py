"""ASGD (averaged stochastic gradient descent), as ``torch.optim.ASGD``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0]))
>>> opt = ember.optim.ASGD([w], lr=0.1)
>>> w.grad = ember.tensor([1.0]); opt.step(); w
Parameter containing:
tensor([0.9000], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.optim.optimizer import (Optimizer, _check_fused_foreach, _check_lr, _evaluate_closure,
                                   _new_step_tensor, _use_grad_for_differentiable, _value, _zeros_like)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD, as ``torch.optim.ASGD``: SGD with a decaying step ``eta`` and a running average ``ax`` of the
    iterates that starts at step ``t0``.

    >>> w = ember.nn.Parameter(ember.tensor([1.0]))
    >>> opt = ember.optim.ASGD([w], lr=0.1, t0=1)
    >>> for _ in range(3):
    ...     w.grad = ember.tensor([1.0]); opt.step()
    >>> sorted(opt.state[w])
    ['ax', 'eta', 'mu', 'step']
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False) -> None:
        _check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_fused_foreach("ASGD", None, foreach, differentiable, fused_supported=False)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    # what a pickled optimizer from an older version lacks (torch's __setstate__ fills the same in)
    _group_defaults_on_unpickle = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    _tensor_state_keys = ("step", "eta", "mu")

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one ASGD update; returns ``closure()``'s loss when a closure is given."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr = _value(group["lr"])
            lambd = group["lambd"]
            alpha = group["alpha"]
            t0 = group["t0"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step_tensor()
                    state["eta"] = _new_step_tensor(lr)
                    state["mu"] = _new_step_tensor(1.0)
                    state["ax"] = _zeros_like(p)
                step_data = state["step"]._data
                step_data += 1
                grad = self._effective_grad(p, group["maximize"], group["weight_decay"])
                eta = state["eta"]._data
                mu = state["mu"]._data
                param = p._data
                work = self._work(param)
                eta_value = float(eta)
                param *= 1 - lambd * eta_value
                np.multiply(grad, -eta_value, out=work)
                param += work
                ax = state["ax"]._data
                if float(mu) != 1:
                    np.subtract(param, ax, out=work)
                    work *= mu[()]
                    ax += work
                else:
                    ax[...] = param
                step = float(step_data)
                eta[()] = lr / ((1 + lambd * lr * step) ** alpha)
                mu[()] = 1 / max(1, step - t0)
                p._version.value += 1
        return loss
