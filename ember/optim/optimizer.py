"""The ``Optimizer`` base class, as ``torch.optim.Optimizer``: param groups, per-parameter state, state dicts, hooks.

Optimizers update parameters in place, on the parameters' NumPy arrays: the same ``Parameter`` objects
keep their identity (and so their place in a Module) across steps. State tensors (``exp_avg``, ``step`` ...)
are ember Tensors whose arrays are also updated in place, so a ``state_dict()`` aliases the live state exactly
as in PyTorch.

>>> import ember
>>> w = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
>>> opt = ember.optim.SGD([w], lr=0.5)
>>> (w * w).sum().backward()
>>> opt.step(); w
Parameter containing:
tensor([0., 0.], requires_grad=True)
>>> opt.state_dict()["param_groups"][0]["params"]
[0]
"""

from __future__ import annotations


import functools
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy as np

from ember import execution_hook as _execution_hook
from ember import dtypes as _dtypes
from ember.autograd.hooks import RemovableHandle, add_hook
from ember.autograd.grad_mode import STATE as _GRAD_STATE
from ember.tensor import Tensor, from_array

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]

_global_optimizer_pre_hooks: OrderedDict = OrderedDict()
_global_optimizer_post_hooks: OrderedDict = OrderedDict()


class _RequiredParameter:
    """Marks a hyper-parameter every param group must give (no default)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``.

    It may return ``(new_args, new_kwargs)`` to replace the step's arguments.

    >>> calls = []
    >>> handle = ember.optim.optimizer.register_optimizer_step_pre_hook(lambda opt, a, k: calls.append(1))
    >>> p = ember.nn.Parameter(ember.ones(1)); p.grad = ember.ones(1)
    >>> ember.optim.SGD([p]).step(); handle.remove(); calls
    [1]
    """
    return add_hook(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``.

    >>> calls = []
    >>> handle = ember.optim.optimizer.register_optimizer_step_post_hook(lambda opt, a, k: calls.append(2))
    >>> p = ember.nn.Parameter(ember.ones(1)); p.grad = ember.ones(1)
    >>> ember.optim.SGD([p]).step(); handle.remove(); calls
    [2]
    """
    return add_hook(_global_optimizer_post_hooks, hook)


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return f"ember.{type(obj).__name__}"
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", "__builtin__") else f"{module}.{name}"


def _use_grad_for_differentiable(step):
    """Run ``step`` with gradient recording off (PyTorch runs it under ``no_grad`` unless differentiable)."""

    @functools.wraps(step)
    def no_grad_step(self, *args, **kwargs):
        previous = _GRAD_STATE.enabled
        _GRAD_STATE.enabled = False
        try:
            return step(self, *args, **kwargs)
        finally:
            _GRAD_STATE.enabled = previous

    return no_grad_step


def _evaluate_closure(closure):
    """Call the user's closure with gradients on (the step itself runs without them)."""
    if closure is None:
        return None
    previous = _GRAD_STATE.enabled
    _GRAD_STATE.enabled = True
    try:
        return closure()
    finally:
        _GRAD_STATE.enabled = previous


def _value(x):
    """A hyper-parameter as a number for NumPy arithmetic.

    ``lr`` and friends may be 1-element tensors: PyTorch then does the scalar arithmetic (bias corrections, step
    sizes) in the tensor's dtype, so they become a NumPy scalar of that dtype, which NumPy treats the same way.
    """
    return x._data.reshape(())[()] if isinstance(x, Tensor) else x


def _get_scalar_dtype(is_fused=None):
    """Dtype of ``state['step']``: float32, or float64 when the default dtype is float64 (as PyTorch)."""
    if is_fused:
        return _dtypes.float32
    return _dtypes.float64 if _dtypes.get_default_dtype() is _dtypes.float64 else _dtypes.float32


def _new_step_tensor(value=0.0, is_fused=None) -> Tensor:
    return from_array(np.array(value, dtype=_get_scalar_dtype(is_fused).numpy_dtype))


def _zeros_like(param) -> Tensor:
    return from_array(np.zeros_like(param._data))


def _full_like(param, value) -> Tensor:
    return from_array(np.full_like(param._data, value))


def _check_lr(lr, name="learning rate"):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if lr < 0.0:
        raise ValueError(f"Invalid {name}: {lr}")


def _check_fused_foreach(name, fused, foreach, differentiable, fused_supported):
    """Validate the implementation switches the way PyTorch does.

    Ember has one NumPy implementation, so ``foreach=True`` and ``fused=True`` (where PyTorch offers a fused
    kernel) select it too: the numbers are those of PyTorch's single-tensor (for-loop) implementation.
    """
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True is not supported by Ember's optimizers (their "
                                  f"updates run in place on NumPy arrays, outside autograd). Use "
                                  f"differentiable=False (the default).")
    if fused:
        if not fused_supported:
            raise RuntimeError("`fused` is not currently supported")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _check_floating_params_for_fused(optimizer):
    for group in optimizer.param_groups:
        if group.get("fused"):
            for p in group["params"]:
                if not p._dtype.is_floating_point:
                    raise RuntimeError("`fused=True` requires all the params to be floating point Tensors of "
                                       f"supported devices: ['cpu'] but {p.dtype} and cpu")


class Optimizer:
    """Base class of all optimizers, as ``torch.optim.Optimizer``.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts defining parameter groups
    (each dict's options override ``defaults``). Subclasses implement ``step``.

    >>> w = ember.nn.Parameter(ember.zeros(2)); b = ember.nn.Parameter(ember.zeros(1))
    >>> opt = ember.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.1}], lr=0.01)
    >>> [g["lr"] for g in opt.param_groups]
    [0.01, 0.1]
    """

    # Subclasses list the group options an optimizer pickled by an older version may lack, and which state
    # entries are tensors (torch's per-class __setstate__ does the same).
    _group_defaults_on_unpickle: dict = {}
    _tensor_state_keys = ("step",)
    # The C update (ember/kernels/optimizer.c) that performs this class's own step() in one pass, "sgd" or
    # "adam", or None. Read from the class itself, not inherited: a subclass may change what step() computes.
    fused_kernel: str | None = None

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        self._patch_step_function()

        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))

        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ----------------------------------------------------------------------------- pickling and repr
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                     "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self._patch_step_function()
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, value in self._group_defaults_on_unpickle.items():
                group.setdefault(key, value)
        if self._group_defaults_on_unpickle:
            self._step_to_tensor(self._tensor_state_keys)

    def __repr__(self) -> str:
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    # ----------------------------------------------------------------------------- step and its hooks
    @staticmethod
    def profile_hook_step(func):
        """Wrap a ``step`` so the global and per-optimizer step pre/post hooks run around it."""

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            self = args[0]
            for pre_hook in chain(_global_optimizer_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
                result = pre_hook(self, args, kwargs)
                if result is not None:
                    if isinstance(result, tuple) and len(result) == 2:
                        args, kwargs = result
                    else:
                        raise RuntimeError(f"{func} must return None or a tuple of (new_args, new_kwargs), but "
                                           f"got {result}.")
            out = func(*args, **kwargs)
            for post_hook in chain(self._optimizer_step_post_hooks.values(), _global_optimizer_post_hooks.values()):
                post_hook(self, args, kwargs)
            return out

        return wrapper

    def _patch_step_function(self) -> None:
        cls = self.__class__
        if not getattr(cls.step, "hooked", None):
            cls.step = self.profile_hook_step(cls.step)
            cls.step.hooked = True

    def step(self, closure=None):
        """Perform one optimization step; subclasses implement it.

        ``closure`` re-evaluates the model and returns the loss; the step returns that loss.
        """
        raise NotImplementedError

    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)`` run before ``step``.

        >>> p = ember.nn.Parameter(ember.ones(1)); p.grad = ember.ones(1)
        >>> opt = ember.optim.SGD([p], lr=1.0)
        >>> handle = opt.register_step_pre_hook(lambda o, args, kwargs: print("stepping"))
        >>> opt.step()
        stepping
        """
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """Register ``hook(optimizer, args, kwargs) -> None`` run after ``step``.

        >>> p = ember.nn.Parameter(ember.ones(1)); p.grad = ember.ones(1)
        >>> opt = ember.optim.SGD([p], lr=1.0)
        >>> handle = opt.register_step_post_hook(lambda o, args, kwargs: print(p.item()))
        >>> opt.step()
        0.0
        """
        return add_hook(self._optimizer_step_post_hooks, hook)

    # ----------------------------------------------------------------------------- state dict
    def register_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer) -> None``, called before ``state_dict()`` builds its result.

        >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(1))])
        >>> handle = opt.register_state_dict_pre_hook(lambda o: print("saving"))
        >>> _ = opt.state_dict()
        saving
        """
        return add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict) -> state_dict or None``, called on ``state_dict()``'s result.

        >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(1))])
        >>> handle = opt.register_state_dict_post_hook(lambda o, sd: {**sd, "note": 1})
        >>> opt.state_dict()["note"]
        1
        """
        return add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer, state_dict) -> state_dict or None``, called before loading.

        >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(1))])
        >>> handle = opt.register_load_state_dict_pre_hook(lambda o, sd: print("loading"))
        >>> opt.load_state_dict(opt.state_dict())
        loading
        """
        return add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Register ``hook(optimizer) -> None``, called after ``load_state_dict``.

        >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(1))])
        >>> handle = opt.register_load_state_dict_post_hook(lambda o: print("loaded"))
        >>> opt.load_state_dict(opt.state_dict())
        loaded
        """
        return add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as a dict: ``state`` (keyed by parameter index) and ``param_groups``.

        Parameters are replaced by their index in the order of the groups; the state tensors are the live
        ones (not copies), as in PyTorch.

        >>> p = ember.nn.Parameter(ember.ones(2)); p.grad = ember.ones(2)
        >>> opt = ember.optim.SGD([p], lr=0.1, momentum=0.9)
        >>> opt.step()
        >>> sd = opt.state_dict()
        >>> sd["state"][0]["momentum_buffer"]
        tensor([1., 1.])
        >>> sd["param_groups"][0]["params"], sd["param_groups"][0]["momentum"]
        ([0], 0.9)
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)

        param_mappings: dict[int, int] = {}
        start_index = 0

        def pack_group(group):
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update({id(p): i for i, p in enumerate(group["params"], start_index)
                                   if id(p) not in param_mappings})
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}

        for post_hook in self._optimizer_state_dict_post_hooks.values():
            hook_result = post_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param, value, param_id, param_groups, key=None):
        # Floating-point state follows the parameter's dtype; 'step' keeps its own (issue pytorch#74424)
        # unless the group is fused or capturable, whose kernels want a float32 step.
        fused = capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return value.to(dtype=_dtypes.float32)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype)
        return value

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict from ``state_dict()`` (of this optimizer class, with groups of the same sizes).

        Floating-point state tensors are cast to their parameter's dtype. A PyTorch optimizer's state dict whose
        tensors were converted to ember tensors loads the same way.

        >>> p = ember.nn.Parameter(ember.ones(2)); p.grad = ember.ones(2)
        >>> opt = ember.optim.Adam([p], lr=0.1); opt.step()
        >>> fresh = ember.optim.Adam([p], lr=0.5)
        >>> fresh.load_state_dict(opt.state_dict())
        >>> fresh.param_groups[0]["lr"], fresh.state[p]["step"]
        (0.1, tensor(1.))
        """
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            hook_result = pre_hook(self, state_dict)
            if hook_result is not None:
                state_dict = hook_result

        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")

        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def _cast(param, value, param_id=None, param_groups=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(param, value, param_id, param_groups, key)
            if isinstance(value, dict):
                return {k: _cast(param, v, param_id=param_id, param_groups=param_groups, key=k)
                        for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
                return type(value)(_cast(param, v, param_id=param_id, param_groups=param_groups) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, param_id=k, param_groups=state_dict["param_groups"])
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})

        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # ----------------------------------------------------------------------------- gradients and groups
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters: to ``None`` (default) or to zeros.

        >>> p = ember.nn.Parameter(ember.ones(2)); p.grad = ember.ones(2)
        >>> opt = ember.optim.SGD([p]); opt.zero_grad(set_to_none=False); p.grad
        tensor([0., 0.])
        >>> opt.zero_grad(); p.grad is None
        True
        """
        if _execution_hook.ACTIVE is not None:  # ember.compile replays it at every call
            return _execution_hook.ACTIVE.host_call("Optimizer.zero_grad", lambda: self.zero_grad(set_to_none))
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                if grad._data.flags.writeable:
                    grad._data.fill(0)
                    grad._version.value += 1
                else:
                    grad.zero_()

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a parameter group (a dict with ``params`` and optional per-group options) to ``param_groups``.

        >>> opt = ember.optim.SGD([ember.nn.Parameter(ember.zeros(1))], lr=0.1)
        >>> opt.add_param_group({"params": ember.nn.Parameter(ember.zeros(3)), "lr": 0.01})
        >>> len(opt.param_groups), opt.param_groups[1]["lr"], opt.param_groups[1]["momentum"]
        (2, 0.01, 0)
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")

        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)

        extracted_param_tensors = []
        extracted_param_names = []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                extracted_param_names.append(param[0])
                extracted_param_tensors.append(param[1])
            else:
                extracted_param_tensors.append(param)
        param_group["params"] = extracted_param_tensors
        if extracted_param_names:
            if len(extracted_param_names) == len(extracted_param_tensors):
                param_group["param_names"] = extracted_param_names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        param_set: set = set()
        for group in self.param_groups:
            param_set.update(set(group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                current_group_txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {current_group_txt} to the optimizer")
        if not param_set.isdisjoint(set(param_group["params"])):
            raise ValueError("some parameters appear in more than one parameter group")

        self.param_groups.append(param_group)

    # ----------------------------------------------------------------------------- helpers for subclasses
    def _work(self, like, slot: int = 0):
        """A work array shaped like the NumPy array ``like``, reused across parameters and steps.

        One flat buffer per (dtype, slot), grown to the largest parameter; not part of the state or of pickles.
        """
        buffers = self.__dict__.get("_work_buffers")
        if buffers is None:
            buffers = self._work_buffers = {}
        key = (like.dtype, slot)
        buffer = buffers.get(key)
        size = like.size
        if buffer is None or buffer.size < size:
            buffer = buffers[key] = np.empty(size, like.dtype)
        return buffer[:size].reshape(like.shape)

    def _effective_grad(self, p, maximize, weight_decay):
        """The gradient an update uses: negated for ``maximize``, plus ``weight_decay * p`` (coupled decay).

        The parameter's own gradient array when neither applies (read only), else a work array (slot 2).
        """
        grad = p.grad._data
        if weight_decay != 0:
            work = self._work(p._data, 2)
            np.multiply(p._data, weight_decay, out=work)
            # -g + wd * p and wd * p - g round identically (negation is exact).
            if maximize:
                np.subtract(work, grad, out=work)
            else:
                work += grad
            return work
        if maximize:
            return np.negative(grad, out=self._work(p._data, 2))
        return grad

    def _step_to_tensor(self, group_keys=("step",)) -> None:
        """Turn Python-number steps (old checkpoints) into 0-d tensors, as PyTorch's ``__setstate__`` does."""
        for group in self.param_groups:
            for p in group["params"]:
                p_state = self.state.get(p, [])
                for key in group_keys:
                    if len(p_state) != 0 and key in p_state and not isinstance(p_state[key], Tensor):
                        p_state[key] = _new_step_tensor(float(p_state[key]), group.get("fused"))


# --------------------------------------------------------------------------------- NumPy update kernels
# The optimizers update NumPy arrays in place, following PyTorch's single-tensor (for-loop) implementation
# operation by operation so float32 results agree with PyTorch's to rounding. Intermediate results go into work
# arrays the optimizer keeps between steps (``Optimizer._work``): fresh multi-megabyte temporaries on every
# operation cost several times the arithmetic itself (allocator traffic and page faults).

def _lerp_(target, end, weight, work) -> None:
    """``target.lerp_(end, weight)`` with PyTorch's formula (which branch depends on the weight's size)."""
    np.subtract(end, target, out=work)
    if abs(weight) < 0.5:
        work *= weight
        target += work
    else:
        work *= 1 - target.dtype.type(weight)
        np.subtract(end, work, out=target)


def _mul_addcmul_(target, decay, tensor, value, work) -> None:
    """``target.mul_(decay).addcmul_(tensor, tensor, value=value)``, i.e. ``decay * target + value * tensor**2``."""
    target *= decay
    np.multiply(tensor, value, out=work)
    work *= tensor
    target += work


_FUSED = {"enabled": None}


def _fused_update(optimizer) -> bool:
    """Run ``optimizer``'s update through its class's ``fused_kernel`` (ember/kernels/optimizer.c) when it applies.

    With the ``compile`` extra (cffi and a C compiler), SGD, Adam and AdamW update each parameter in one C pass
    that performs the same float32 operations in the same order as the NumPy code below them (the same bits),
    instead of three to six NumPy passes. Returns False, having changed nothing, when the extra is missing,
    an option is not covered (amsgrad, maximize, non-float32 parameters...), the state is not created yet, or
    ``EMBER_FUSED_OPTIM=0``; the caller then runs its NumPy update.
    """
    if _FUSED["enabled"] is None:  # checked quietly once: without the extra, eager mode says nothing
        from ember import flags
        from ember.kernels import loader
        _FUSED["enabled"] = loader.eager_allowed(flags.FUSED_OPTIM)
    if not _FUSED["enabled"]:
        return False
    from ember.kernels.optimizer import fused_update
    return fused_update(optimizer)
