"""Parametrizations (``torch.nn.utils.parametrize``): make ``module.weight`` a function of hidden tensors.

After ``register_parametrization(module, "weight", f)`` reading ``module.weight`` returns
``f(module.parametrizations.weight.original)``, gradients flow into ``original``, and assigning
``module.weight = X`` stores ``f.right_inverse(X)``. As in torch, the module's class is swapped for a
``Parametrized<Class>`` subclass that holds the property, and the state dict uses the keys
``parametrizations.weight.original`` (or ``original0``, ``original1``... when ``right_inverse`` returns several
tensors).

>>> import ember
>>> from ember.nn.utils import parametrize
>>> class Symmetric(ember.nn.Module):
...     def forward(self, X):
...         return X.triu() + X.triu(1).transpose(-1, -2)
>>> layer = ember.nn.Linear(3, 3)
>>> _ = parametrize.register_parametrization(layer, "weight", Symmetric())
>>> type(layer).__name__, list(layer.state_dict())
('ParametrizedLinear', ['bias', 'parametrizations.weight.original'])
>>> bool((layer.weight == layer.weight.T).all())
True
"""

from __future__ import annotations

import collections
import copyreg
from contextlib import contextmanager
from copy import deepcopy

from ember.autograd.grad_mode import no_grad
from ember.nn.module import Module
from ember.nn.modules.container import ModuleDict, ModuleList
from ember.nn.parameter import Parameter
from ember.tensor import Tensor

__all__ = ["cached", "ParametrizationList", "register_parametrization", "is_parametrized", "remove_parametrizations",
           "type_before_parametrizations", "transfer_parametrizations_and_params"]

_cache_enabled = 0
_cache: dict = {}


@contextmanager
def cached():
    """Inside this context each parametrized tensor is computed once, on first use, then reused.

    Useful when a parametrized weight is read several times in one forward (an RNN cell, tied weights).

    >>> layer = ember.nn.Linear(2, 2)
    >>> _ = ember.nn.utils.parametrize.register_parametrization(layer, "weight", ember.nn.Identity())
    >>> with ember.nn.utils.parametrize.cached():
    ...     layer.weight is layer.weight
    True
    """
    global _cache
    global _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module, name, X) -> None:
    if isinstance(X, Parameter):
        module.register_parameter(name, X)
    else:
        module.register_buffer(name, X)


def _maybe_set(dest: Tensor, src: Tensor) -> None:
    # torch's ``dest.set_(src)``: dest keeps its identity (so optimizers still hold it) and takes src's storage.
    dest.data = src
    dest._version.value += 1


class ParametrizationList(ModuleList):
    """Holds the original tensor(s) and the chain of parametrizations of one parametrized tensor.

    It is ``module.parametrizations[tensor_name]``; users do not build it themselves. The tensor is stored as
    ``original`` when the first parametrization's ``right_inverse`` returns one tensor (or is absent), else as
    ``original0``, ``original1``...

    >>> layer = ember.nn.utils.parametrize.register_parametrization(ember.nn.Linear(2, 2), "weight",
    ...                                                             ember.nn.Identity())
    >>> type(layer.parametrizations.weight).__name__, layer.parametrizations.weight.original.shape
    ('ParametrizationList', ember.Size([2, 2]))
    """

    def __init__(self, modules, original, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        # Invariants checked below (unless unsafe): with Y = right_inverse(original) and Z = forward(Y), Z has the
        # original's dtype and shape, and a single Y keeps the original's dtype so it can be written in place.
        original_shape = original.shape
        original_dtype = original.dtype
        with no_grad():
            new = original
            for module in reversed(self):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, Tensor) and not isinstance(new, collections.abc.Sequence):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                             f"Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                                 f"original.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            # The original object stays registered so an optimizer already holding it keeps working.
            with no_grad():
                if new is not original:
                    _maybe_set(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, originali in enumerate(new):
                if not isinstance(originali, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                                     f"Got element {i} of the sequence with type {type(originali).__name__}.")
                # Callers must add these new Parameters to their optimizer (documented in torch as well).
                if isinstance(original, Parameter):
                    originali = Parameter(originali, original.requires_grad)
                originali.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", originali)
        if not self.unsafe:
            Z = self()
            if not isinstance(Z, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(Z).__name__}.")
            if Z.dtype != original_dtype:
                raise ValueError("Registering a parametrization may not change the dtype of the tensor, unless "
                                 "`unsafe` flag is enabled.\n"
                                 f"unparametrized dtype: {original_dtype}\n"
                                 f"parametrized dtype: {Z.dtype}")
            if Z.shape != original_shape:
                raise ValueError("Registering a parametrization may not change the shape of the tensor, unless "
                                 "`unsafe` flag is enabled.\n"
                                 f"unparametrized shape: {original_shape}\n"
                                 f"parametrized shape: {Z.shape}")

    def right_inverse(self, value: Tensor) -> None:
        """Run the ``right_inverse`` chain (last parametrization first) and store the result in the originals."""
        with no_grad():
            for module in reversed(self):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
                else:
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse.")
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype {value.dtype} "
                                     f"while `original` has dtype {self.original.dtype}")
                _maybe_set(self.original, value)
            else:
                if not isinstance(value, collections.abc.Sequence):
                    raise ValueError(f"'right_inverse' must return a sequence of tensors. Got {type(value).__name__}.")
                if len(value) != self.ntensors:
                    raise ValueError("'right_inverse' must return a sequence of tensors of length "
                                     f"{self.ntensors}. Got a sequence of length {len(value)}.")
                for i, tensor in enumerate(value):
                    original_i = getattr(self, f"original{i}")
                    if not isinstance(tensor, Tensor):
                        raise ValueError("'right_inverse' must return a sequence of tensors or reference-type "
                                         f"opaques. Got element {i} of type {type(tensor).__name__}.")
                    if original_i.dtype != tensor.dtype:
                        raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype {tensor.dtype} "
                                         f"while `original{i}` has dtype {original_i.dtype}")
                    _maybe_set(original_i, tensor)

    def forward(self) -> Tensor:
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        curr_idx = 1
        while str(curr_idx) in self._modules:
            x = self[curr_idx](x)
            curr_idx += 1
        return x


def _default_deepcopy(self, memo):
    obj = memo.get(id(self), None)
    if obj is not None:
        return obj
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__ = deepcopy(self.__dict__, memo)
    for slot in copyreg._slotnames(self.__class__):
        if hasattr(self, slot):
            setattr(replica, slot, deepcopy(getattr(self, slot), memo))
    return replica


def _parametrized_getstate(self):
    raise RuntimeError("Serialization of parametrized modules is only supported through state_dict(). See:\n"
                       "https://pytorch.org/tutorials/beginner/saving_loading_models.html"
                       "#saving-loading-a-general-checkpoint-for-inference-and-or-resuming-training")


def _inject_new_class(module: Module) -> None:
    cls = module.__class__
    # Parametrized modules are not picklable (only their state_dict is), but deepcopy must keep working.
    namespace = {"__getstate__": _parametrized_getstate}
    if not hasattr(cls, "__deepcopy__"):
        namespace["__deepcopy__"] = _default_deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), namespace)


def _inject_property(module: Module, tensor_name: str) -> None:
    if hasattr(module, tensor_name):
        raise AssertionError(f"Module already has an attribute named '{tensor_name}'")

    def get_cached_parametrization(parametrization) -> Tensor:
        key = (id(module), tensor_name)
        tensor = _cache.get(key)
        if tensor is None:
            tensor = parametrization()
            _cache[key] = tensor
        return tensor

    def get_parametrized(self) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        if _cache_enabled:
            return get_cached_parametrization(parametrization)
        return parametrization()

    def set_original(self, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` read as ``parametrization(original)``; returns ``module``.

    The first registration on a tensor moves it to ``module.parametrizations[tensor_name].original`` (the same
    Parameter object). If ``parametrization`` has ``right_inverse``, it maps the current value to the original
    (it may return a sequence, stored as ``original0``, ``original1``...). Registering again on the same tensor
    chains parametrizations. Unless ``unsafe=True``, a parametrization must keep the tensor's shape and dtype.

    >>> class Double(ember.nn.Module):
    ...     def forward(self, X):
    ...         return 2 * X
    ...     def right_inverse(self, Y):
    ...         return Y / 2
    >>> m = ember.nn.Linear(2, 1, bias=False)
    >>> _ = ember.nn.init.ones_(m.weight)
    >>> _ = ember.nn.utils.parametrize.register_parametrization(m, "weight", Double())
    >>> m.weight
    tensor([[1., 1.]], grad_fn=<MulBackward0>)
    >>> m.weight = ember.tensor([[4.0, 6.0]]); m.parametrizations.weight.original
    Parameter containing:
    tensor([[2., 3.]], requires_grad=True)
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        # Both forward and right_inverse must map the space of tensors shaped like module.<tensor_name> to itself.
        if not unsafe:
            Y = getattr(module, tensor_name)
            X = parametrization(Y)
            if not isinstance(X, Tensor):
                raise ValueError(f"A parametrization must return a tensor. Got {type(X).__name__}.")
            if X.dtype != Y.dtype:
                raise ValueError("Registering a parametrization may not change the dtype of the tensor, unless the "
                                 "`unsafe` flag is enabled.\n"
                                 f"module.{tensor_name}.dtype: {Y.dtype}\n"
                                 f"parametrization(module.{tensor_name}).dtype: {X.dtype}")
            if X.shape != Y.shape:
                raise ValueError("Registering a parametrization may not change the shape of the tensor, unless the "
                                 "`unsafe` flag is enabled.\n"
                                 f"module.{tensor_name}.shape: {Y.shape}\n"
                                 f"parametrization(module.{tensor_name}).shape: {X.shape}")
            if hasattr(parametrization, "right_inverse"):
                try:
                    Z = parametrization.right_inverse(X)
                except NotImplementedError:
                    pass
                else:
                    if not isinstance(Z, Tensor):
                        raise ValueError(f"parametrization.right_inverse must return a tensor. Got: {type(Z).__name__}")
                    if Z.dtype != Y.dtype:
                        raise ValueError("The tensor returned by parametrization.right_inverse must have the same "
                                         f"dtype as module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
                                         f"module.{tensor_name}.dtype: {Y.dtype}\n"
                                         f"returned dtype: {Z.dtype}")
                    if Z.shape != Y.shape:
                        raise ValueError("The tensor returned by parametrization.right_inverse must have the same "
                                         f"shape as module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
                                         f"module.{tensor_name}.shape: {Y.shape}\n"
                                         f"returned shape: {Z.shape}")
        module.parametrizations[tensor_name].append(parametrization)
        # Once any parametrization in the chain is unsafe, the whole chain is.
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        # Built before touching the module so that a failing check leaves it unchanged.
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization on ``tensor_name`` (on any tensor when it is None).

    >>> layer = ember.nn.Linear(2, 2)
    >>> ember.nn.utils.parametrize.is_parametrized(layer)
    False
    >>> _ = ember.nn.utils.parametrize.register_parametrization(layer, "bias", ember.nn.Identity())
    >>> ember.nn.utils.parametrize.is_parametrized(layer), ember.nn.utils.parametrize.is_parametrized(layer, "weight")
    (True, False)
    """
    parametrizations = getattr(module, "parametrizations", None)
    if parametrizations is None or not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Remove the parametrizations on ``module.<tensor_name>``; returns ``module``.

    With ``leave_parametrized=True`` the tensor keeps its current (parametrized) value; otherwise it gets back the
    unparametrized ``original`` (only possible when there is a single original tensor). When no parametrization is
    left the module gets its original class back.

    >>> layer = ember.nn.Linear(2, 2)
    >>> _ = ember.nn.utils.parametrize.register_parametrization(layer, "weight", ember.nn.Identity())
    >>> type(ember.nn.utils.parametrize.remove_parametrizations(layer, "weight")).__name__
    'Linear'
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
            # Written into the original object (same dtype, checked at registration) so optimizers keep it.
            with no_grad():
                _maybe_set(original, t)
    else:
        if leave_parametrized:
            # Not under no_grad: whether the result needs a gradient depends on the originals.
            t = getattr(module, tensor_name)
            original = Parameter(t) if t.requires_grad else t
        else:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class before any parametrization was registered.

    >>> layer = ember.nn.utils.parametrize.register_parametrization(ember.nn.Linear(2, 2), "weight",
    ...                                                             ember.nn.Identity())
    >>> ember.nn.utils.parametrize.type_before_parametrizations(layer).__name__
    'Linear'
    """
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module, tensor_name: str | None = None):
    """Register ``from_module``'s parametrizations (all, or those of ``tensor_name``) on ``to_module`` and copy the
    original tensors; returns ``to_module``.

    >>> src = ember.nn.utils.parametrize.register_parametrization(ember.nn.Linear(2, 2), "weight",
    ...                                                           ember.nn.Identity())
    >>> dst = ember.nn.utils.parametrize.transfer_parametrizations_and_params(src, ember.nn.Linear(2, 2))
    >>> bool((dst.weight == src.weight).all())
    True
    """
    if is_parametrized(from_module):
        parameters_to_transfer = from_module.parametrizations if tensor_name is None else [tensor_name]
        for parameter_name in parameters_to_transfer:
            if not hasattr(to_module, parameter_name):
                setattr(to_module, parameter_name, Parameter(getattr(from_module, parameter_name)))
            for param_func in from_module.parametrizations[parameter_name]:
                register_parametrization(to_module, parameter_name, param_func)
            source = from_module.parametrizations[parameter_name]
            target = to_module.parametrizations[parameter_name]
            # The originals are stored either as ``original`` or as ``original0``, ``original1``...
            if hasattr(source, "original"):
                target.original = source.original
            else:
                num = 0
                while hasattr(source, f"original{num}"):
                    setattr(target, f"original{num}", getattr(source, f"original{num}"))
                    num += 1
    return to_module
