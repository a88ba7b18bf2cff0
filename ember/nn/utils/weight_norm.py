"""Weight normalization with the hook-based API (``torch.nn.utils.weight_norm``), https://arxiv.org/abs/1602.07868.

``weight`` is replaced by a magnitude ``weight_g`` and a direction ``weight_v`` (both Parameters) and recomputed as
``weight_g * weight_v / ||weight_v||`` before every forward. Deprecated in torch in favour of
``nn.utils.parametrizations.weight_norm``; kept because checkpoints and code use it.

>>> import ember, warnings
>>> class Scale(ember.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.weight = ember.nn.Parameter(ember.tensor([[3.0, 4.0], [0.0, 2.0]]))
...     def forward(self, x):
...         return x * self.weight
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     m = ember.nn.utils.weight_norm(Scale())
>>> sorted(name for name, _ in m.named_parameters())
['weight_g', 'weight_v']
>>> m.weight_g
Parameter containing:
tensor([[5.],
        [2.]], requires_grad=True)
"""

from __future__ import annotations

import warnings

from ember.nn.parameter import Parameter, UninitializedParameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm"]


def norm_except_dim(v, pow: float = 2, dim: int = 0):
    """The ``pow``-norm of ``v`` over every dimension but ``dim``, kept as size-1 dims (``torch.norm_except_dim``).

    ``dim=-1`` means the norm of the whole tensor (a 0-d result), not the last dimension.

    >>> norm_except_dim(ember.tensor([[3.0, 4.0], [6.0, 8.0]]), 2, 0)
    tensor([[ 5.],
            [10.]])
    """
    from ember.linalg import vector_norm
    if dim == -1:
        return vector_norm(v, pow)
    ndim = v.dim()
    if dim == 0:
        return vector_norm(v.reshape(v.size(0), -1), pow, dim=1).view((v.size(0),) + (1,) * (ndim - 1))
    if dim == ndim - 1:
        return vector_norm(v.reshape(-1, v.size(-1)), pow, dim=0).view((1,) * (ndim - 1) + (v.size(-1),))
    return norm_except_dim(v.transpose(0, dim), pow, 0).transpose(0, dim)


def _weight_norm(v, g, dim: int = 0):
    """``v * (g / ||v||)`` with the norm over every dimension but ``dim`` (``torch._weight_norm``)."""
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``.

    >>> WeightNorm("weight", None).dim
    -1
    """

    def __init__(self, name: str, dim: int) -> None:
        if dim is None:
            dim = -1
        self.name = name
        self.dim = dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module, name: str, dim: int) -> "WeightNorm":
        warnings.warn("`nn.utils.weight_norm` is deprecated in favor of `nn.utils.parametrizations.weight_norm`.",
                      FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        if dim is None:
            dim = -1
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        if isinstance(weight, UninitializedParameter):
            raise ValueError("The module passed to `WeightNorm` can't have uninitialized parameters. "
                             "Make sure to run the dummy forward before applying weight normalization")
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, dim).data))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name: str = "weight", dim: int = 0):
    """Replace ``module.<name>`` by ``<name>_g`` (magnitude) and ``<name>_v`` (direction), recombined each forward.

    ``dim`` is the dimension kept by the norm (0: one norm per output channel); ``dim=None`` normalizes the whole
    tensor. Returns ``module``. Warns ``FutureWarning`` (deprecated in favour of
    ``nn.utils.parametrizations.weight_norm``).

    >>> import warnings
    >>> m = ember.nn.Module(); m.weight = ember.nn.Parameter(ember.ones(4, 3))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     m = ember.nn.utils.weight_norm(m, dim=None)
    >>> m.weight_g.shape, m.weight_v.shape
    (ember.Size([]), ember.Size([4, 3]))
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Undo :func:`weight_norm`: ``module.<name>`` becomes a plain Parameter holding the current weight.

    >>> import warnings
    >>> m = ember.nn.Module(); m.weight = ember.nn.Parameter(ember.ones(2, 2))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     m = ember.nn.utils.weight_norm(m)
    >>> [name for name, _ in ember.nn.utils.remove_weight_norm(m).named_parameters()]
    ['weight']
    """
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
