"""AdamW: Adam with decoupled weight decay, as ``torch.optim.AdamW``.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0]))
>>> opt = ember.optim.AdamW([w], lr=0.1, weight_decay=0.5)
>>> w.grad = ember.tensor([1.0]); opt.step(); w
Parameter containing:
tensor([0.8500], requires_grad=True)
"""

from __future__ import annotations

from ember.optim.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """Adam whose weight decay shrinks the parameter directly (``p *= 1 - lr * weight_decay``), as ``torch.optim.AdamW``.

    Same options as ``Adam`` except ``decoupled_weight_decay``, which is always on; ``weight_decay`` defaults to
    0.01.

    >>> opt = ember.optim.AdamW([ember.nn.Parameter(ember.zeros(1))])
    >>> opt.param_groups[0]["weight_decay"], opt.param_groups[0]["decoupled_weight_decay"]
    (0.01, True)
    """

    # Adam's fused update (decoupled_weight_decay is in every group); declared again: a subclass does not inherit it
    fused_kernel = "adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
