"""Flatten parameters into one vector and back (``torch.nn.utils.convert_parameters``).

>>> import ember
>>> params = [ember.nn.Parameter(ember.ones(2, 2)), ember.nn.Parameter(ember.zeros(3))]
>>> vec = ember.nn.utils.parameters_to_vector(params)
>>> vec.shape
ember.Size([7])
>>> ember.nn.utils.vector_to_parameters(ember.arange(7.0), params)
>>> params[1]
Parameter containing:
tensor([4., 5., 6.], requires_grad=True)
"""

from __future__ import annotations

from ember.errors import op_error
from ember.tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """Concatenate the flattened ``parameters`` into one 1-D tensor (differentiable, a copy).

    >>> ember.nn.utils.parameters_to_vector([ember.ones(2), ember.zeros(1, 2)])
    tensor([1., 1., 0., 0.])
    """
    from ember import ops
    return ops.cat([param.view(-1) for param in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of ``vec`` into ``parameters`` (each parameter's data becomes a view of ``vec``).

    >>> p = ember.nn.Parameter(ember.zeros(2)); ember.nn.utils.vector_to_parameters(ember.tensor([1.0, 2.0]), [p])
    >>> p.data
    tensor([1., 2.])
    """
    if not isinstance(vec, Tensor):
        raise op_error(TypeError, "vector_to_parameters", f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param


def _typename(obj) -> str:
    kind = type(obj)
    module = kind.__module__
    return kind.__qualname__ if module in ("", "builtins") else f"{module}.{kind.__qualname__}"
