"""Stochastic Weight Averaging and EMA (``torch.optim.swa_utils``): AveragedModel, SWALR, update_bn.

>>> model = ember.nn.Linear(2, 1)
>>> ema_model = ember.optim.swa_utils.AveragedModel(
...     model, multi_avg_fn=ember.optim.swa_utils.get_ema_multi_avg_fn(0.9))
>>> with ember.no_grad():
...     _ = model.weight.fill_(1.0)
>>> ema_model.update_parameters(model)   # the first update copies the weights
>>> with ember.no_grad():
...     _ = model.weight.fill_(2.0)
>>> ema_model.update_parameters(model)
>>> ema_model.module.weight
Parameter containing:
tensor([[1.1000, 1.1000]], requires_grad=True)
"""

from __future__ import annotations

import itertools
import math
import warnings
from copy import deepcopy

import ember
from ember.autograd.grad_mode import no_grad
from ember.nn.module import Module
from ember.optim.lr_scheduler import LRScheduler, _format_param
from ember.tensor import Tensor

__all__ = [
    "AveragedModel",
    "update_bn",
    "SWALR",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "get_ema_avg_fn",
    "get_swa_avg_fn",
]


def _check_decay(decay) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_multi_avg_fn(decay=0.999):
    """The in-place EMA update over lists of tensors: ``ema = decay * ema + (1 - decay) * current``.

    Floating-point tensors are updated with ``lerp_`` (as PyTorch's ``_foreach_lerp_``).

    >>> ema, current = [ember.zeros(2)], [ember.ones(2)]
    >>> ember.optim.swa_utils.get_ema_multi_avg_fn(0.75)(ema, current, 1)
    >>> ema[0]
    tensor([0.2500, 0.2500])
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _) -> None:
        if ema_param_list[0].is_floating_point() or ema_param_list[0].is_complex():
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.lerp_(p_model, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_param_list, current_param_list, strict=True):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """The in-place equal-weight (SWA) update over lists of tensors: ``avg += (current - avg) / (n + 1)``.

    >>> averaged, current = [ember.zeros(2)], [ember.full((2,), 3.0)]
    >>> ember.optim.swa_utils.get_swa_multi_avg_fn()(averaged, current, ember.tensor(2))
    >>> averaged[0]
    tensor([1., 1.])
    """

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged) -> None:
        if averaged_param_list[0].is_floating_point() or averaged_param_list[0].is_complex():
            weight = 1 / (num_averaged + 1)
            if isinstance(weight, Tensor):
                weight = weight.item()
            for p_averaged, p_model in zip(averaged_param_list, current_param_list, strict=True):
                p_averaged.lerp_(p_model, weight)
        else:
            diffs = [p_model - p_averaged for p_averaged, p_model in zip(averaged_param_list, current_param_list,
                                                                         strict=True)]
            for p_averaged, diff in zip(averaged_param_list, diffs, strict=True):
                if isinstance(num_averaged, Tensor):
                    p_averaged.addcdiv_(diff, num_averaged + 1)
                else:
                    p_averaged.add_(diff, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The out-of-place EMA of one tensor: returns ``decay * ema + (1 - decay) * current``.

    >>> ember.optim.swa_utils.get_ema_avg_fn(0.75)(ember.zeros(2), ember.ones(2), 1)
    tensor([0.2500, 0.2500])
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """The out-of-place equal-weight average of one tensor: returns ``avg + (current - avg) / (n + 1)``.

    >>> ember.optim.swa_utils.get_swa_avg_fn()(ember.zeros(2), ember.full((2,), 3.0), 2)
    tensor([1., 1.])
    """

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _group_by_device_and_dtype(averaged, current) -> dict:
    # Keyed in first-seen order, as torch's _group_tensors_by_device_and_dtype, so a multi_avg_fn always
    # receives tensors of one dtype.
    groups: dict = {}
    for p_averaged, p_model in zip(averaged, current, strict=True):
        averaged_list, current_list = groups.setdefault((str(p_averaged.device), p_averaged.dtype), ([], []))
        averaged_list.append(p_averaged)
        current_list.append(p_model)
    return groups


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are a running average of ``model``'s (SWA or EMA).

    Each :meth:`update_parameters` call averages the current parameters of ``model`` in: the first call
    copies them, later ones apply ``avg_fn(averaged, current, num_averaged)`` (out of place, per tensor) or
    ``multi_avg_fn(averaged_list, current_list, num_averaged)`` (in place, per dtype group); by default an
    equal-weight average. With ``use_buffers=True`` buffers are averaged too, otherwise they are copied from
    ``model``. ``n_averaged`` is a buffer counting the updates. ``avg_fn``/``multi_avg_fn`` are not saved in
    ``state_dict``.

    >>> model = ember.nn.Linear(1, 1, bias=False)
    >>> swa_model = ember.optim.swa_utils.AveragedModel(model)
    >>> for value in (1.0, 2.0, 6.0):
    ...     with ember.no_grad():
    ...         _ = model.weight.fill_(value)
    ...     swa_model.update_parameters(model)
    >>> swa_model.module.weight.item(), swa_model.n_averaged.item()
    (3.0, 3)
    >>> list(swa_model.state_dict())
    ['n_averaged', 'module.weight']
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", ember.tensor(0, dtype=ember.long, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        """Run the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Average ``model``'s current parameters (and buffers, with ``use_buffers``) into this model."""
        self_param = (itertools.chain(self.module.parameters(), self.module.buffers()) if self.use_buffers
                      else self.parameters())
        model_param = (itertools.chain(model.parameters(), model.buffers()) if self.use_buffers
                       else model.parameters())
        self_param_detached = []
        model_param_detached = []
        copy_param = bool(self.n_averaged == 0)
        with no_grad():
            for p_averaged, p_model in zip(self_param, model_param, strict=False):
                p_model_ = p_model.detach().to(p_averaged.device)
                self_param_detached.append(p_averaged.detach())
                model_param_detached.append(p_model_)
                if copy_param:
                    p_averaged.detach().copy_(p_model_)

            if self.n_averaged > 0:
                if self.multi_avg_fn is not None or self.avg_fn is None:
                    groups = _group_by_device_and_dtype(self_param_detached, model_param_detached)
                    for (device, _), (self_params, model_params) in groups.items():
                        n_averaged = self.n_averaged.to(device)
                        if self.multi_avg_fn:
                            self.multi_avg_fn(self_params, model_params, n_averaged)
                        else:
                            # PyTorch's CPU path: the per-tensor average (its foreach kernels are GPU-only).
                            avg_fn = get_swa_avg_fn()
                            for p_averaged, p_model in zip(self_params, model_params, strict=True):
                                p_averaged.copy_(avg_fn(p_averaged, p_model, n_averaged))
                else:
                    for p_averaged, p_model in zip(self_param_detached, model_param_detached, strict=True):
                        n_averaged = self.n_averaged.to(p_averaged.device)
                        p_averaged.detach().copy_(self.avg_fn(p_averaged.detach(), p_model, n_averaged))

            if not self.use_buffers:
                # Buffers are not averaged, so they follow the source model.
                for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged += 1


def update_bn(loader, model: Module, device=None) -> None:
    """Recompute the BatchNorm running statistics of ``model`` with one pass over ``loader``.

    Each batch is a tensor, or a list/tuple whose first element is the input. The running statistics are
    reset and accumulated as a cumulative average (``momentum=None``); the model's momenta and train/eval
    mode are restored afterwards.

    >>> model = ember.nn.BatchNorm1d(1)
    >>> loader = [ember.tensor([[1.0], [3.0]]), (ember.tensor([[5.0], [7.0]]), None)]
    >>> ember.optim.swa_utils.update_bn(loader, model)
    >>> model.running_mean
    tensor([4.])
    """
    from ember.nn.modules.normalization import _BatchNorm

    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum

    if not momenta:
        return

    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None

    with no_grad():
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)

    for bn_module in momenta:
        bn_module.momentum = momenta[bn_module]
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate to ``swa_lr`` over ``anneal_epochs`` epochs, then hold it (for SWA).

    ``anneal_strategy`` is 'cos' or 'linear'; ``swa_lr`` is a number or one per param group.

    >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=1.0)
    >>> scheduler = ember.optim.swa_utils.SWALR(optimizer, swa_lr=0.5, anneal_epochs=2, anneal_strategy="linear")
    >>> lrs = []
    >>> for epoch in range(4):
    ...     lrs.append(scheduler.get_last_lr()[0])
    ...     optimizer.step()
    ...     scheduler.step()
    >>> lrs
    [1.0, 0.75, 0.5, 0.5]
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy: str = "cos", last_epoch=-1) -> None:
        swa_lrs = _format_param("swa_lr", optimizer, swa_lr)
        for swa_lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = swa_lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        """The next learning rates: the annealing step from each group's current ``lr`` towards ``swa_lr``."""
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        # _step_count counts the initial step taken by the constructor.
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)]

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self) -> dict:
        """The scheduler's state: every attribute except the optimizer and the annealing function.

        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=1.0)
        >>> state = ember.optim.swa_utils.SWALR(optimizer, swa_lr=0.5).state_dict()
        >>> state["_anneal_strategy"], "anneal_func" in state
        ('cos', False)
        """
        return {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state returned by :meth:`state_dict` (the annealing function is rebuilt from its name).

        >>> optimizer = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=1.0)
        >>> scheduler = ember.optim.swa_utils.SWALR(optimizer, swa_lr=0.5)
        >>> scheduler.load_state_dict({"_anneal_strategy": "linear"})
        >>> scheduler.anneal_func(0.25)
        0.25
        """
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
