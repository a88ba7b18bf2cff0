"""Adam (and, with ``decoupled_weight_decay=True``, AdamW), as ``torch.optim.Adam``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0, -2.0]))
>>> opt = ember.optim.Adam([w], lr=0.1)
>>> w.grad = ember.tensor([0.5, 0.5]); opt.step(); w
Parameter containing:
tensor([ 0.9000, -2.1000], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.optim.optimizer import (_fused_update, Optimizer, _check_floating_params_for_fused, _check_fused_foreach, _check_lr,
                                   _evaluate_closure, _lerp_, _mul_addcmul_, _new_step_tensor,
                                   _use_grad_for_differentiable, _value, _zeros_like)
from ember.tensor import Tensor

__all__ = ["Adam"]


def _check_betas(betas):
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``: bias-corrected first and second moment estimates of the gradient.

    Options as PyTorch: ``amsgrad`` (keep the running maximum of the second moment), ``weight_decay`` (added to
    the gradient, or applied to the parameter directly with ``decoupled_weight_decay=True``, which is AdamW),
    ``maximize``; ``lr`` and ``betas`` may be tensors. ``foreach``/``fused``/``capturable`` select PyTorch kernels
    that compute the same update; Ember accepts them and runs its one NumPy implementation.

    >>> w = ember.nn.Parameter(ember.tensor([1.0]))
    >>> opt = ember.optim.Adam([w], lr=0.01, betas=(0.8, 0.99), amsgrad=True)
    >>> for _ in range(3):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> w
    Parameter containing:
    tensor([0.9700], requires_grad=True)
    >>> sorted(opt.state[w])
    ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']
    """

    # ember/kernels/optimizer.c's update that mirrors step() (the compile extra); see _fused_update
    fused_kernel = "adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False) -> None:
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for index in (0, 1):
            if isinstance(betas[index], Tensor):
                if not capturable and foreach:
                    raise ValueError(f"betas[{index}] as a Tensor is not supported for capturable=False and "
                                     f"foreach=True")
                if betas[index].numel() != 1:
                    raise ValueError(f"Tensor betas[{index}] must be 1-element")
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b for b in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        _check_fused_foreach(type(self).__name__, fused, foreach, differentiable, fused_supported=True)
        super().__init__(params, defaults)
        if fused:
            _check_floating_params_for_fused(self)

    # what a pickled optimizer from an older version lacks (torch's __setstate__ fills the same in)
    _group_defaults_on_unpickle = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                                   "differentiable": False, "decoupled_weight_decay": False, "fused": None}

    @_use_grad_for_differentiable
    def step(self, closure=None):
        """Perform one Adam update; returns ``closure()``'s loss when a closure is given.

        >>> w = ember.nn.Parameter(ember.tensor([2.0])); opt = ember.optim.Adam([w], lr=0.5)
        >>> w.grad = ember.tensor([-1.0]); opt.step(); w
        Parameter containing:
        tensor([2.5000], requires_grad=True)
        """
        loss = _evaluate_closure(closure)
        if _fused_update(self):
            return loss
        for group in self.param_groups:
            beta1, beta2 = (_value(beta) for beta in group["betas"])
            lr = _value(group["lr"])
            weight_decay = _value(group["weight_decay"])
            eps = group["eps"]
            amsgrad = group["amsgrad"]
            decoupled = group["decoupled_weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step_tensor(0.0, group["fused"])
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros_like(p)
                param = p._data
                if decoupled:
                    grad = self._effective_grad(p, group["maximize"], 0)
                    if weight_decay != 0:
                        param *= 1 - lr * weight_decay
                else:
                    grad = self._effective_grad(p, group["maximize"], weight_decay)
                work, denom = self._work(param, 0), self._work(param, 1)
                step_data = state["step"]._data
                step_data += 1
                step = float(step_data)
                exp_avg = state["exp_avg"]._data
                exp_avg_sq = state["exp_avg_sq"]._data
                _lerp_(exp_avg, grad, 1 - beta1, work)
                _mul_addcmul_(exp_avg_sq, beta2, grad, 1 - beta2, work)

                bias_correction1 = 1 - beta1 ** step
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                step_size = lr / bias_correction1
                if amsgrad:
                    max_exp_avg_sq = state["max_exp_avg_sq"]._data
                    np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    np.sqrt(max_exp_avg_sq, out=denom)
                else:
                    np.sqrt(exp_avg_sq, out=denom)
                denom /= bias_correction2_sqrt
                denom += eps
                np.multiply(exp_avg, -step_size, out=work)
                work /= denom
                param += work
                p._version.value += 1
        return loss
