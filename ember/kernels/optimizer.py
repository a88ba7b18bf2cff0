"""Fused optimizer updates (optimizer.c): one C pass per parameter for SGD (momentum, Nesterov, weight decay), Adam
and AdamW.

Eager ``Adam.step()`` in NumPy makes about ten passes over every parameter; the fused kernel reads the parameter,
gradient and moments once and performs the same float32 operations in the same order, so its results equal
the NumPy update's bit for bit. An optimizer class names its kernel in a class attribute (``SGD.fused_kernel =
"sgd"``; Adam and AdamW: ``"adam"``), and calls :func:`fused_update` at the start of every ``step()`` (eager or
inside a compiled step) when the ``compile`` extra is installed. Anything the kernels do not cover
(amsgrad, maximize, differentiable, non-float32 or non-contiguous parameters, a parameter whose state is not
created yet) makes it return False, and the optimizer runs its NumPy update for that call.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0, -2.0]))
>>> opt = ember.optim.SGD([w], lr=0.1, momentum=0.9)
>>> w.grad = ember.tensor([0.5, 0.5]); opt.step()
>>> if not fused_update(opt):  # no C compiler here: the optimizer's own NumPy update
...     opt.step()
>>> w
Parameter containing:
tensor([ 0.8550, -2.1450], requires_grad=True)
"""

from __future__ import annotations

import numpy as np

from ember.kernels.loader import load_library, pointer

__all__ = ["fused_update", "supported"]

_F32 = np.dtype(np.float32)


def _value(x):
    """A hyper-parameter as a number: ``lr`` and friends may be 1-element tensors, whose value (a NumPy scalar of
    their dtype) the NumPy update computes with, so the kernel gets the same."""
    data = getattr(x, "_data", None)
    return x if data is None else data.reshape(())[()]


def _kernel_name(optimizer):
    """The update kernel ``optimizer``'s class declares (``fused_kernel = "sgd"`` or ``"adam"``), or None. Only
    the class's own attribute counts: a subclass may change what ``step()`` computes, so it runs its NumPy
    update unless it declares a kernel itself."""
    return vars(type(optimizer)).get("fused_kernel")


def supported(optimizer) -> bool:
    """Whether ``optimizer``'s class and options have a fused kernel (parameters are checked at each call).

    >>> import ember
    >>> supported(ember.optim.Adam([ember.nn.Parameter(ember.ones(2))], amsgrad=True))
    False
    """
    kind = _kernel_name(optimizer)
    if kind not in _UPDATES:
        return False
    for group in optimizer.param_groups:
        if group.get("differentiable") or group.get("maximize"):
            return False
        if kind == "sgd":
            continue
        if group.get("amsgrad"):
            return False
    return True


def _usable(p, grad):
    data = p._data
    return (data.dtype == _F32 and grad.dtype == _F32 and data.flags.c_contiguous and grad.flags.c_contiguous
            and data.shape == grad.shape)


def fused_update(optimizer) -> bool:
    """Run one ``optimizer.step()``'s update through the fused kernels. False, with nothing changed, when the
    kernels are unavailable or the optimizer, an option, a parameter or its state does not fit; the caller then
    runs its NumPy update (eager SGD/Adam/AdamW call this first in every ``step()``, compiled or not)."""
    if not supported(optimizer):
        return False
    lib = load_library("optimizer")
    if lib is None:
        return False
    # One thread: the updates are memory-bound (two threads measured no faster on 400k floats), and a parallel
    # region right after a GEMM waits for the cores OpenBLAS's threads still spin on (7 ms instead of 0.1 ms).
    return _UPDATES[_kernel_name(optimizer)](optimizer, lib, 1)


def _ready(optimizer, state_key):
    """Every parameter with a gradient is fusable and has its state: else the whole call runs eagerly."""
    state = optimizer.state
    for group in optimizer.param_groups:
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            if not _usable(p, grad._data):
                return False
            if state_key is None:
                continue
            param_state = state.get(p, {})
            if state_key not in param_state:
                return False
            for name in ("momentum_buffer", "exp_avg", "exp_avg_sq"):
                held = param_state.get(name)
                if held is not None and not _usable(p, held._data):
                    return False
    return True


def _sgd_step(optimizer, lib, threads) -> bool:
    momentum_used = any(_value(group["momentum"]) != 0 for group in optimizer.param_groups)
    if not _ready(optimizer, "momentum_buffer" if momentum_used else None):
        return False
    state = optimizer.state
    for group in optimizer.param_groups:
        lr = _value(group["lr"])
        wd = _value(group["weight_decay"])
        momentum = _value(group["momentum"])
        dampening = _value(group["dampening"])
        nesterov = int(bool(group["nesterov"]))
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            param = p._data
            if momentum != 0:
                buffer = state[p]["momentum_buffer"]
                lib.ember_sgd(pointer(param), pointer(grad._data), pointer(buffer._data), param.size, lr, momentum,
                              1 - dampening, int(dampening != 0), wd, nesterov, threads)
                buffer._version.value += 1
            else:
                lib.ember_sgd_plain(pointer(param), pointer(grad._data), param.size, lr, wd, threads)
            p._version.value += 1
    return True


def _adam_step(optimizer, lib, threads) -> bool:
    if not _ready(optimizer, "exp_avg"):
        return False
    state = optimizer.state
    for group in optimizer.param_groups:
        beta1, beta2 = (_value(beta) for beta in group["betas"])
        lr = _value(group["lr"])
        wd = _value(group["weight_decay"])
        eps = group["eps"]
        decoupled = bool(group["decoupled_weight_decay"])
        apply_decay = int(decoupled and wd != 0)
        coupled = int(not decoupled and wd != 0)
        decay = 1 - lr * wd
        w1 = 1 - beta1
        lerp_small = int(abs(w1) < 0.5)
        one_minus_w1 = float(np.float32(1) - np.float32(w1))
        one_minus_beta2 = 1 - beta2
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            param_state = state[p]
            step_data = param_state["step"]._data
            step_data += 1
            step = float(step_data)
            bc2 = (1 - beta2 ** step) ** 0.5
            step_size = lr / (1 - beta1 ** step)
            param = p._data
            lib.ember_adam(pointer(param), pointer(grad._data), pointer(param_state["exp_avg"]._data),
                           pointer(param_state["exp_avg_sq"]._data), param.size, decay, apply_decay, wd, coupled, w1,
                           lerp_small, one_minus_w1, beta2, one_minus_beta2, bc2, eps, -step_size, threads)
            p._version.value += 1
    return True


# ``fused_kernel`` names -> the update that runs them; AdamW is Adam with ``decoupled_weight_decay`` in its groups.
_UPDATES = {"sgd": _sgd_step, "adam": _adam_step}
