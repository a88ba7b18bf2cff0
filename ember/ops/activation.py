"""Activation functions, the softmax family and dropout (``torch.nn.functional`` semantics).

Each activation is one registered op computed in NumPy; its function (in ``ember.nn.functional``, and in
``ember`` too where ``torch`` has it), in-place form and Tensor method come from its definition. Dropout,
``glu``, ``softmin`` and the other functions built from ops are registered composites. Piecewise-linear
activations (relu, hardtanh, leaky_relu ...) backpropagate through a constant slope mask, which is exact to
every order. Smooth ones (gelu, silu, softmax, log_softmax) register a closed-form ``*_backward`` op whose own
backward is written with ember ops, so double backward works and first-order backward stays one NumPy pass.
Half-precision inputs are computed in float32 and rounded once (``dtypes.opmath``), as PyTorch does.

>>> import ember
>>> import ember.nn.functional as F
>>> F.relu(ember.tensor([-1.0, 0.5]))
tensor([0.0000, 0.5000])
>>> F.softmax(ember.tensor([0.0, 0.0]), dim=0)
tensor([0.5000, 0.5000])
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ember import dtypes as _dt
from ember.autograd.grad_mode import STATE
from ember.dtypes import opmath, rounded_like, torch_type_name
from ember.errors import op_error
from ember.ops.arguments import wrap_dim
from ember.ops.arithmetic import Abs, Cast, Where
from ember.ops.math_functions import _erf_kernel, _poly  # one erf kernel serves erf and gelu
from ember.ops.math_functions import Exp, Sigmoid, Sign, Tanh
from ember.ops.movement import Clone
from ember.ops.registry import (_Scratch, apply_inplace, check_inplace_allowed, register_function, register_op,
                                write_result_into)
from ember.tensor import Tensor, from_array


def _compute(fn, a, **params):
    """``fn`` on ``a`` in its compute precision (``dtypes.opmath``), rounded back once; 0-d arrays are lifted
    to 1-d so ``out=`` ufuncs work."""
    x = opmath(a)
    if x.ndim == 0:
        out = fn(x.reshape(1), **params).reshape(())
    else:
        out = fn(x, **params)
    return rounded_like(out, a)


def _np_sigmoid(x):
    with np.errstate(over="ignore"):
        out = np.exp(-x)
        out += 1
        return np.reciprocal(out, out=out)


# Chebyshev fit of erfc (Numerical Recipes' erfcc): relative error < 1.2e-7 for every a >= 0, one exp, no branches.
_ERFC_CHEBYSHEV = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
                   1.48851587, -0.82215223, 0.17087277)


def _erfc_nonnegative_float32(a):
    t = a * np.float32(0.5)
    t += 1
    np.reciprocal(t, out=t)
    exponent = _poly(_ERFC_CHEBYSHEV, t)
    exponent -= a * a
    np.exp(exponent, out=exponent)
    exponent *= t
    return exponent


def _normal_cdf(x):
    """Phi(x), accurate in both tails: float32 uses a one-pass fit at float32 accuracy, float64 the SunPro rationals."""
    a = np.abs(x)
    a *= x.dtype.type(math.sqrt(0.5))
    erfc = _erfc_nonnegative_float32(a) if x.dtype == np.float32 else _erf_kernel(a, complement=True).astype(x.dtype)
    erfc *= 0.5
    # Phi(x) = erfc/2 for x < 0 and 1 - erfc/2 otherwise, without a select.
    np.copysign(erfc, -x, out=erfc)
    erfc += x >= 0
    return erfc


_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_KAPPA = 0.044715


# ------------------------------------------------------------------------------------ generic helpers
def _float_input(input, op_name):
    if not isinstance(input, Tensor):
        raise op_error(TypeError, op_name, f"{op_name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._dtype.category < 2:
        raise op_error(NotImplementedError, op_name, f'"{op_name}" not implemented for '
                       f"'{torch_type_name(input._dtype)}'; pass a floating point tensor")


def _inplace(op, self, op_name, **attrs):
    """Run ``op`` in place; with autograd, ops that save their input compute from a copy of it."""
    if op.save_inputs and STATE.enabled and self._requires_grad:
        check_inplace_allowed(self, op_name)
        write_result_into(self, op(Clone(self), **attrs), op_name)
        return self
    return apply_inplace(op, self, **attrs)


def _scaled(grad, slope):
    """``grad`` times a constant slope array (the derivative of a piecewise-linear activation)."""
    return ActivationSlope(grad, slope=slope)


@register_op
class ActivationSlope:
    """``x * slope`` for a constant ``slope`` array (an activation's gradient, a dropout mask); linear in ``x``,
    so its backward is itself and it saves no tensor (in-place callers may overwrite ``x``)."""

    name = "activation_slope"
    kind = "elementwise"
    promote = "none"

    def forward(ctx, grad, slope):
        ctx.slope = slope
        if slope.dtype != np.bool_ and slope.dtype != grad.dtype:
            slope = slope.astype(grad.dtype)
        return np.multiply(grad, slope, dtype=grad.dtype)

    def backward(ctx, grad_grad):
        return ActivationSlope(grad_grad, slope=ctx.slope)


# ------------------------------------------------------------------------------------ relu / threshold
def _check_not_bool(input, op_name):
    if input._dtype is _dt.bool:
        raise op_error(RuntimeError, op_name, f"Boolean inputs not supported for {op_name}")


@register_op
class Relu:
    """``max(input, 0)`` elementwise.

    >>> ember.relu(ember.tensor([-2.0, 3.0]))
    tensor([0., 3.])
    """

    name = "relu"
    kind = "elementwise"
    allowed = {1, 2}
    save = ("output",)
    c_form = "ember_relu({a})"  # ember.compile's fused loops
    method = True
    functional = True
    out = False

    def function(input: Tensor, inplace: bool = False) -> Tensor:
        _check_not_bool(input, "relu")
        if inplace:
            return apply_inplace(Relu, input)
        return Relu(input)

    def inplace(input: Tensor) -> Tensor:
        """In-place :func:`relu`.

        >>> x = ember.tensor([-1.0, 1.0]); _ = ember.relu_(x); x
        tensor([0., 1.])
        """
        _check_not_bool(input, "relu_")
        return apply_inplace(Relu, input)

    def forward(a):
        return np.maximum(a, 0, dtype=a.dtype)

    def forward_into(out, a):
        np.maximum(a, 0, out=out)

    def inplace_forward(out):
        np.maximum(out, 0, out=out)

    def backward(ctx, grad):
        return _scaled(grad, ctx.output._data > 0)


@register_op
class Threshold:
    """``input`` where ``input > threshold``, else ``value``.

    >>> ember.threshold(ember.tensor([0.5, 2.0]), 1.0, -1.0)
    tensor([-1.,  2.])
    """

    name = "threshold"
    kind = "elementwise"
    allowed = {1, 2}
    save = ("inputs",)
    functional = True
    out = False

    def function(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
        if inplace:
            return _inplace(Threshold, input, "threshold_", threshold=threshold, value=value)
        return Threshold(input, threshold=threshold, value=value)

    def inplace(input: Tensor, threshold: float, value: float) -> Tensor:
        """In-place :func:`threshold`.

        >>> x = ember.tensor([0.5, 2.0]); _ = ember.threshold_(x, 1.0, 0.0); x
        tensor([0., 2.])
        """
        return _inplace(Threshold, input, "threshold_", threshold=threshold, value=value)

    def forward(ctx, a, threshold, value):
        ctx.threshold = threshold
        return np.where(a > threshold, a, np.asarray(value).astype(a.dtype))

    def backward(ctx, grad):
        return _scaled(grad, ctx.inputs[0]._data > ctx.threshold)


# ------------------------------------------------------------------------------------ piecewise linear
_ONE_SIXTH_FLOAT32 = float(np.float32(1 / 6))  # PyTorch's hardsigmoid_backward uses the float literal 1.0f / 6.0f


def _piecewise(value, slope):
    """Class decorator for an elementwise activation whose derivative is piecewise constant: adds the forward
    ``value(x, **attrs)`` (in NumPy, at ``dtypes.opmath`` precision) and the backward ``grad * slope(x, **attrs)``,
    which reads the saved input."""

    def forward(ctx, a, **params):
        ctx.params = params
        return _compute(value, a, **params)

    def backward(ctx, grad):
        return _scaled(grad, slope(ctx.inputs[0]._data, **ctx.params))

    def decorate(cls):
        cls.kind, cls.save = "elementwise", ("inputs",)
        cls.forward, cls.backward = forward, backward
        return cls

    return decorate


@register_op
@_piecewise(lambda x, min_val, max_val: np.minimum(np.maximum(x, min_val), max_val),
            lambda x, min_val, max_val: (x > min_val) & (x < max_val))
class Hardtanh:
    """Clamp to ``[min_val, max_val]``; the gradient is 1 strictly inside the range.

    >>> import ember.nn.functional as F
    >>> F.hardtanh(ember.tensor([-3.0, 0.5, 2.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """

    name = "hardtanh"
    allowed = {1, 2}
    functional = "only"
    out = False

    def function(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
        if min_val > max_val:
            raise op_error(ValueError, "hardtanh", f"min_val cannot be greater than max_val, got min_val={min_val} "
                           f"and max_val={max_val}")
        if inplace:
            return _inplace(Hardtanh, input, "hardtanh_", min_val=min_val, max_val=max_val)
        return Hardtanh(input, min_val=min_val, max_val=max_val)

    def inplace(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        """In-place :func:`hardtanh`.

        >>> import ember.nn.functional as F
        >>> x = ember.tensor([-3.0, 3.0]); _ = F.hardtanh_(x); x
        tensor([-1.,  1.])
        """
        return Hardtanh.function(input, min_val, max_val, inplace=True)


@register_function(functional="only")
def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(input, 0), 6)``.

    >>> import ember.nn.functional as F
    >>> F.relu6(ember.tensor([-1.0, 3.0, 9.0]))
    tensor([0., 3., 6.])
    """
    return Hardtanh.function(input, 0.0, 6.0, inplace)


@register_op
@_piecewise(lambda x, negative_slope: np.where(x > 0, x, x * x.dtype.type(negative_slope)),
            lambda x, negative_slope: np.where(x > 0, 1.0, negative_slope))
class LeakyRelu:
    """``input`` where positive, else ``negative_slope * input``.

    >>> import ember.nn.functional as F
    >>> F.leaky_relu(ember.tensor([-2.0, 2.0]), 0.1)
    tensor([-0.2000,  2.0000])
    """

    name = "leaky_relu"
    allowed = {2}
    functional = "only"
    out = False

    def function(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
        _float_input(input, "leaky_relu")
        if inplace:
            return _inplace(LeakyRelu, input, "leaky_relu_", negative_slope=negative_slope)
        return LeakyRelu(input, negative_slope=negative_slope)

    def inplace(input: Tensor, negative_slope: float = 0.01) -> Tensor:
        """In-place :func:`leaky_relu`.

        >>> import ember.nn.functional as F
        >>> x = ember.tensor([-2.0]); _ = F.leaky_relu_(x, 0.5); x
        tensor([-1.])
        """
        return LeakyRelu.function(input, negative_slope, inplace=True)


@register_op
@_piecewise(lambda x: np.clip(x + x.dtype.type(3), 0, 6) / x.dtype.type(6),
            lambda x: ((x > -3) & (x < 3)) * _ONE_SIXTH_FLOAT32)
class Hardsigmoid:
    """``relu6(input + 3) / 6``.

    >>> import ember.nn.functional as F
    >>> F.hardsigmoid(ember.tensor([-4.0, 0.0, 4.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """

    name = "hardsigmoid"
    allowed = {2}
    functional = "only"
    out = False

    def function(input: Tensor, inplace: bool = False) -> Tensor:
        _float_input(input, "hardsigmoid")
        if inplace:
            return _inplace(Hardsigmoid, input, "hardsigmoid_")
        return Hardsigmoid(input)


def _check_lambda(lambd, input, op_name):
    if lambd < 0:
        info = np.finfo(np.float32 if input._dtype.itemsize <= 4 else np.float64)
        raise op_error(RuntimeError, op_name, f"lambda must be in range [0, {float(info.max):g}] for input dtype "
                       f"{torch_type_name(input._dtype)}, but found {lambd}")


def _outside(x, lambd):
    """Where ``|x| > lambd``: the slope of the shrink activations."""
    return (x < -lambd) | (x > lambd)


@register_op
@_piecewise(lambda x, lambd: np.where((x >= -lambd) & (x <= lambd), x.dtype.type(0), x), _outside)
class Hardshrink:
    """0 where ``|input| <= lambd``, else ``input``.

    >>> ember.hardshrink(ember.tensor([-1.0, 0.2, 0.7]))
    tensor([-1.0000,  0.0000,  0.7000])
    """

    name = "hardshrink"
    allowed = {2}
    method = True
    functional = True
    out = False

    def function(input: Tensor, lambd: float = 0.5) -> Tensor:
        _float_input(input, "hardshrink")
        return Hardshrink(input, lambd=lambd)


@register_op
@_piecewise(lambda x, lambd: np.where(x > lambd, x - x.dtype.type(lambd),
                                      np.where(x < -lambd, x + x.dtype.type(lambd), x.dtype.type(0))), _outside)
class Softshrink:
    """Shrink toward 0 by ``lambd``; 0 where ``|input| <= lambd``.

    >>> import ember.nn.functional as F
    >>> F.softshrink(ember.tensor([-1.0, 0.2, 0.75]))
    tensor([-0.5000,  0.0000,  0.2500])
    """

    name = "softshrink"
    allowed = {2}
    functional = "only"
    out = False

    def function(input: Tensor, lambd: float = 0.5) -> Tensor:
        _float_input(input, "softshrink")
        _check_lambda(lambd, input, "softshrink")
        return Softshrink(input, lambd=lambd)


# ------------------------------------------------------------------------------------ smooth activations
def _smooth(value_np, derivative_np, second_derivative, raw_forward=None, saving_forward=None):
    """Class decorator for a smooth elementwise activation of floating inputs: adds its forward and backward
    (which reads the saved input), and registers the op ``name + '_backward'`` that the backward calls.

    ``value_np(x, **params)`` and ``derivative_np(x, **params)`` run in NumPy; the backward op computes
    ``grad * f'(x)`` in one pass, and its own backward uses ``second_derivative(x, **params)`` written
    with ember ops, so every order of derivative stays differentiable. ``raw_forward(a)``, when given,
    replaces the forward on the input's own dtype (to round where PyTorch's composite rounds).
    ``saving_forward(x, **params)``, when given, is used while a graph is recorded: it returns the value and
    an intermediate array (e.g. ``tanh`` of the inner term) that ``derivative_np(x, saved=..., **params)``
    reuses instead of recomputing its transcendental functions. ``facts``: more facts of the op (see
    ember/ops/registry.py), such as ``replay_forward``.
    """

    def forward(ctx, a, **params):
        ctx.params = params
        if raw_forward is not None:
            return raw_forward(a)
        if saving_forward is not None and ctx.__class__ is not _Scratch:
            kept = []

            def value_keeping(x, **p):
                value, saved = saving_forward(x, **p)
                kept.append(saved)
                return value

            out = _compute(value_keeping, a, **params)
            ctx.saved = kept[0]
            return out
        return _compute(value_np, a, **params)

    def backward(ctx, grad):
        saved = getattr(ctx, "saved", None)
        if saved is None:
            return backward_op(grad, ctx.inputs[0], **ctx.params)
        return backward_op(grad, ctx.inputs[0], saved=saved, **ctx.params)

    def backward_forward(ctx, grad, a, saved=None, **params):
        ctx.params = params
        ctx.saved = saved

        def scaled(x, **p):
            out = derivative_np(x, **p) if saved is None else derivative_np(x, saved=saved, **p)
            out *= opmath(grad).reshape(out.shape) if grad.ndim == 0 else opmath(grad)
            return out

        return _compute(scaled, a, **params)

    def backward_backward(ctx, grad_grad):
        grad, x = ctx.inputs
        grad_of_grad = None
        if ctx.next_edges[0] is not None:
            if ctx.saved is None:
                grad_of_grad = backward_op(grad_grad, x, **ctx.params)
            else:
                grad_of_grad = backward_op(grad_grad, x, saved=ctx.saved, **ctx.params)
        grad_of_x = grad_grad * grad * second_derivative(x, **ctx.params) if ctx.next_edges[1] is not None else None
        return grad_of_grad, grad_of_x

    backward_op = None

    def decorate(cls):
        nonlocal backward_op
        backward_op = register_op(type(cls.__name__ + "Backward", (), {
            "__doc__": f"``grad * {cls.name}'(input)`` (the backward of ``{cls.name}``; differentiable again).",
            "__module__": cls.__module__, "name": cls.name + "_backward", "kind": "elementwise",
            "save": ("inputs",), "forward": backward_forward, "backward": backward_backward}))
        cls.kind, cls.allowed, cls.save = "elementwise", {2}, ("inputs",)
        cls.forward, cls.backward = forward, backward
        return cls

    return decorate


def _nonpositive(x):
    """``min(x, 0)`` as an ember op; keeps ``exp`` finite where the positive branch is taken."""
    return Where(from_array(x._data > 0), 0.0, x)


# elu(alpha, scale, input_scale): PyTorch's one kernel behind elu, selu and celu.
def _elu_np(x, alpha, scale, input_scale):
    z = np.minimum(x, 0) * input_scale
    # libm's expm1f where the C kernels work: NumPy's float32 expm1 differs in the last bit between CPUs
    negative = (_KERNELS.get("pointwise") or _pointwise()).expm1_float32(z) if z.dtype == np.float32 else None
    if negative is None:
        with np.errstate(over="ignore"):
            negative = np.expm1(z)
    negative *= scale * alpha
    return np.where(x > 0, x * scale, negative)


def _elu_derivative_np(x, alpha, scale, input_scale):
    with np.errstate(over="ignore"):
        negative = np.exp(np.minimum(x, 0) * input_scale)
    negative *= scale * alpha * input_scale
    return np.where(x > 0, x.dtype.type(scale), negative)


def _elu_second(x, alpha, scale, input_scale):
    negative_part = from_array((x._data <= 0).astype(x._data.dtype))
    return Exp(_nonpositive(x) * input_scale) * (scale * alpha * input_scale * input_scale) * negative_part


@register_op
@_smooth(_elu_np, _elu_derivative_np, _elu_second)
class Elu:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> import ember.nn.functional as F
    >>> F.elu(ember.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """

    name = "elu"
    functional = "only"
    out = False

    def function(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
        _float_input(input, "elu")
        if inplace:
            return _inplace(Elu, input, "elu_", alpha=alpha, scale=1.0, input_scale=1.0)
        return Elu(input, alpha=alpha, scale=1.0, input_scale=1.0)

    def inplace(input: Tensor, alpha: float = 1.0) -> Tensor:
        """In-place :func:`elu`.

        >>> import ember.nn.functional as F
        >>> x = ember.tensor([2.0]); _ = F.elu_(x); x
        tensor([2.])
        """
        return Elu.function(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu_inplace(input: Tensor) -> Tensor:
    """In-place :func:`selu`.

    >>> x = ember.tensor([0.0]); _ = ember.selu_(x); x
    tensor([0.])
    """
    return selu(input, inplace=True)


@register_function(functional=True, inplace=_selu_inplace)
def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """Scaled ELU with the self-normalizing constants.

    >>> ember.selu(ember.tensor([1.0]))
    tensor([1.0507])
    """
    _float_input(input, "selu")
    params = dict(alpha=_SELU_ALPHA, scale=_SELU_SCALE, input_scale=1.0)
    return _inplace(Elu, input, "selu_", **params) if inplace else Elu(input, **params)


def _celu_inplace(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`celu`.

    >>> x = ember.tensor([1.0]); _ = ember.celu_(x); x
    tensor([1.])
    """
    return celu(input, alpha, inplace=True)


@register_function(functional=True, inplace=_celu_inplace)
def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    >>> ember.celu(ember.tensor([-1.0, 1.0]), alpha=2.0)
    tensor([-0.7869,  1.0000])
    """
    _float_input(input, "celu")
    if alpha == 0:
        raise op_error(RuntimeError, "celu", "ZeroDivisionError: alpha must not be 0 for celu")
    params = dict(alpha=alpha, scale=1.0, input_scale=1.0 / alpha)
    return _inplace(Elu, input, "celu_", **params) if inplace else Elu(input, **params)


# gelu: exact (erf) or the tanh approximation.
def _gelu_tanh_inner(x):
    """``tanh(sqrt(2 / pi) * (x + kappa * x**3))``, computed in one buffer."""
    inner = x * x
    inner *= _GELU_KAPPA
    inner += 1
    inner *= x
    inner *= _SQRT_2_OVER_PI
    return np.tanh(inner, out=inner)


def _fused_gelu(name, x):
    """The compile extra's C kernel (``ember.kernels.pointwise``) for float32 tanh-GELU, or None."""
    if x.dtype != np.float32:
        return None
    from ember.kernels import pointwise
    return getattr(pointwise, name)(x)


def _gelu_saving(x, approximate):
    """The gelu value and what its derivative reuses: ``tanh`` of the inner term, or the normal cdf (None when the
    C kernel computed the value: its derivative kernel recomputes the term, which costs less than keeping it)."""
    if approximate == "tanh":
        fused = _fused_gelu("eager_gelu_tanh", x)
        if fused is not None:
            return fused, None
        t = _gelu_tanh_inner(x)
        out = np.add(t, 1)
        out *= x
        out *= 0.5
        return out, t
    cdf = _normal_cdf(x)
    return np.multiply(cdf, x), cdf


def _gelu_np(x, approximate):
    if approximate == "tanh":
        fused = _fused_gelu("eager_gelu_tanh", x)
        if fused is not None:
            return fused
        inner = _gelu_tanh_inner(x)
        inner += 1
        inner *= x
        inner *= 0.5
        return inner
    cdf = _normal_cdf(x)
    cdf *= x
    return cdf


def _gelu_derivative_np(x, approximate, saved=None):
    """``gelu'(x)``; ``saved`` is the forward's ``tanh`` of the inner term (tanh) or ``Phi(x)`` (exact)."""
    if approximate == "tanh":
        if saved is None:
            fused = _fused_gelu("eager_gelu_tanh_slope", x)
            if fused is not None:
                return fused
        t = _gelu_tanh_inner(x) if saved is None else saved
        # 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * sqrt(2 / pi) * (1 + 3 * kappa * x**2), in two buffers.
        out = x * x
        out *= 1.5 * _GELU_KAPPA * _SQRT_2_OVER_PI
        out += 0.5 * _SQRT_2_OVER_PI
        out *= x
        t_sq = np.multiply(t, t)
        t_sq *= out
        out -= t_sq
        np.multiply(t, 0.5, out=t_sq)
        out += t_sq
        out += 0.5
        return out
    density = x * x
    density *= -0.5
    np.exp(density, out=density)
    density *= x
    density *= _INV_SQRT_2PI
    density += _normal_cdf(x) if saved is None else saved
    return density


def _gelu_second(x, approximate):
    x_sq = x * x
    if approximate == "tanh":
        t = Tanh((x + x_sq * x * _GELU_KAPPA) * _SQRT_2_OVER_PI)
        inner_d1 = (x_sq * (3 * _GELU_KAPPA) + 1) * _SQRT_2_OVER_PI
        inner_d2 = x * (6 * _GELU_KAPPA * _SQRT_2_OVER_PI)
        return (1 - t * t) * (inner_d1 - x * t * inner_d1 * inner_d1 + x * inner_d2 * 0.5)
    return Exp(x_sq * -0.5) * (2 - x_sq) * _INV_SQRT_2PI


# Read by ember.compile: a compiled step runs tanh-GELU through the C kernels whatever the eager switches say, keeps
# only x for backward (no tanh term), and its backward kernel recomputes the term: one array fewer kept from
# forward to backward, for a few flops per element. The output is recomputable from x too (remat).
_TANH = {"approximate": "tanh"}
_KERNELS = {}  # ember.kernels.pointwise once imported (not at `import ember`: it brings the C toolchain's helpers)


def _pointwise():
    if not _KERNELS:
        from ember.kernels import pointwise
        _KERNELS["pointwise"] = pointwise
    return _KERNELS["pointwise"]


@register_op
@_smooth(_gelu_np, _gelu_derivative_np, _gelu_second, saving_forward=_gelu_saving)
class Gelu:
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses the tanh formula.

    >>> import ember.nn.functional as F
    >>> F.gelu(ember.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1587,  0.0000,  0.8413])
    """

    name = "gelu"
    functional = "only"
    out = False

    def function(input: Tensor, approximate: str = "none") -> Tensor:
        if approximate not in ("none", "tanh"):
            raise op_error(RuntimeError, "gelu", f"approximate argument must be either none or tanh, got "
                           f"{approximate!r}")
        _float_input(input, "gelu")
        return Gelu(input, approximate=approximate)

    def recomputable(attrs):
        """ember.compile may recompute tanh-GELU's output in backward from its input (remat)."""
        return attrs.get("approximate") == "tanh"

    def replay_forward(ctx, x, approximate):
        """A compiled step's forward: the C kernel keeping no tanh term (None: run the op's own forward)."""
        if approximate != "tanh":
            return None
        fused = (_KERNELS.get("pointwise") or _pointwise()).gelu_tanh(x, keep_tanh=False)
        if fused is None:
            return None
        if ctx is not None:  # what the forward leaves in its ctx, less the tanh term
            ctx.params = _TANH
            ctx.saved = None
        return fused[0]

    def replay_backward(ctx, grad):
        """A compiled step's backward: the C kernel recomputing the tanh term (None: run the op's backward)."""
        if ctx.params["approximate"] != "tanh" or grad is None:
            return None
        # saved_inputs, not inputs: nothing writes a replayed step's saved arrays (and this runs every step)
        result = (_KERNELS.get("pointwise") or _pointwise()).gelu_tanh_backward(grad, ctx.saved_inputs[0]._data,
                                                                               getattr(ctx, "saved", None))
        return None if result is None else (result,)


# silu = x * sigmoid(x)
def _silu_np(x):
    out = _np_sigmoid(x)
    out *= x
    return out


def _silu_derivative_np(x):
    s = _np_sigmoid(x)
    out = 1 - s
    out *= x
    out += 1
    out *= s
    return out


def _silu_second(x):
    s = Sigmoid(x)
    return s * (1 - s) * (2 + x * (1 - 2 * s))


@register_op
@_smooth(_silu_np, _silu_derivative_np, _silu_second)
class Silu:
    """``x * sigmoid(x)`` (swish).

    >>> import ember.nn.functional as F
    >>> F.silu(ember.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7311])
    """

    name = "silu"
    functional = "only"
    out = False

    def function(input: Tensor, inplace: bool = False) -> Tensor:
        _float_input(input, "silu")
        if inplace:
            return _inplace(Silu, input, "silu_")
        return Silu(input)


# softplus(beta, threshold) and its relatives logsigmoid and mish
def _softplus_np(x, beta=1.0, threshold=20.0):
    scaled = x * x.dtype.type(beta)
    with np.errstate(over="ignore"):
        out = np.log1p(np.exp(-np.abs(scaled)))
    out += np.maximum(scaled, 0)
    if beta != 1:
        out /= x.dtype.type(beta)
    return np.where(scaled > threshold, x, out)


def _softplus_derivative_np(x, beta, threshold):
    scaled = x * x.dtype.type(beta)
    return np.where(scaled > threshold, x.dtype.type(1), _np_sigmoid(scaled))


def _softplus_second(x, beta, threshold):
    s = Sigmoid(x * beta)
    smooth_part = from_array((x._data * beta <= threshold).astype(x._data.dtype))
    return s * (1 - s) * (beta * smooth_part)


@register_op
@_smooth(_softplus_np, _softplus_derivative_np, _softplus_second)
class Softplus:
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``.

    >>> import ember.nn.functional as F
    >>> F.softplus(ember.tensor([0.0, 30.0]))
    tensor([ 0.6931, 30.0000])
    """

    name = "softplus"
    functional = "only"
    out = False

    def function(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        _float_input(input, "softplus")
        return Softplus(input, beta=beta, threshold=threshold)


def _log_sigmoid_np(x):
    with np.errstate(over="ignore"):
        out = np.log1p(np.exp(-np.abs(x)))
    return np.subtract(np.minimum(x, 0), out, out=out)


def _log_sigmoid_second(x):
    s = Sigmoid(x)
    return -(s * (1 - s))


@register_op
@_smooth(_log_sigmoid_np, lambda x: _np_sigmoid(-x), _log_sigmoid_second)
class LogSigmoid:
    """``log(sigmoid(x))``, computed stably.

    >>> import ember.nn.functional as F
    >>> F.logsigmoid(ember.tensor([0.0, -200.0]))
    tensor([  -0.6931, -200.0000])
    """

    name = "log_sigmoid"
    names = ("logsigmoid",)
    functional = "only"
    out = False

    def function(input: Tensor) -> Tensor:
        _float_input(input, "log_sigmoid")
        return LogSigmoid(input)


def _mish_np(x):
    out = np.tanh(_softplus_np(x))
    out *= x
    return out


def _mish_derivative_np(x):
    t = np.tanh(_softplus_np(x))
    out = 1 - t * t
    out *= _np_sigmoid(x)
    out *= x
    out += t
    return out


def _mish_second(x):
    t = Tanh(Softplus(x, beta=1.0, threshold=20.0))
    s = Sigmoid(x)
    return s * (1 - t * t) * (2 + x * (1 - s) - x * s * t * 2)


@register_op
@_smooth(_mish_np, _mish_derivative_np, _mish_second)
class Mish:
    """``x * tanh(softplus(x))``.

    >>> import ember.nn.functional as F
    >>> F.mish(ember.tensor([1.0]))
    tensor([0.8651])
    """

    name = "mish"
    functional = "only"
    out = False

    def function(input: Tensor, inplace: bool = False) -> Tensor:
        _float_input(input, "mish")
        if inplace:
            return _inplace(Mish, input, "mish_")
        return Mish(input)


def _softsign_np(x):
    denominator = np.abs(x)
    denominator += 1
    return np.divide(x, denominator, out=denominator)


def _softsign_derivative_np(x):
    out = np.abs(x)
    out += 1
    out *= out
    return np.reciprocal(out, out=out)


def _softsign_second(x):
    return Sign(x) * -2 / (Abs(x) + 1) ** 3


@register_op
@_smooth(_softsign_np, _softsign_derivative_np, _softsign_second)
class Softsign:
    """``x / (1 + |x|)``.

    >>> import ember.nn.functional as F
    >>> F.softsign(ember.tensor([-1.0, 3.0]))
    tensor([-0.5000,  0.7500])
    """

    name = "softsign"
    functional = "only"
    out = False

    def function(input: Tensor) -> Tensor:
        _float_input(input, "softsign")
        return Softsign(input)


def _tanhshrink_second(x):
    t = Tanh(x)
    return 2 * t * (1 - t * t)


def _tanhshrink_raw(a):
    """``a - tanh(a)`` with tanh rounded to ``a``'s dtype first, as PyTorch's composite does for half inputs."""
    return np.subtract(a, _compute(np.tanh, a), dtype=a.dtype)


@register_op
@_smooth(lambda x: x - np.tanh(x), lambda x: np.tanh(x) ** 2, _tanhshrink_second, raw_forward=_tanhshrink_raw)
class Tanhshrink:
    """``x - tanh(x)``.

    >>> import ember.nn.functional as F
    >>> F.tanhshrink(ember.tensor([0.0]))
    tensor([0.])
    """

    name = "tanhshrink"
    functional = "only"
    out = False

    def function(input: Tensor) -> Tensor:
        _float_input(input, "tanhshrink")
        return Tanhshrink(input)


def _hardswish_np(x):
    out = np.clip(x + x.dtype.type(3), 0, 6)
    out *= x
    out /= x.dtype.type(6)
    return out


def _hardswish_derivative_np(x):
    return np.where(x < -3, x.dtype.type(0), np.where(x <= 3, x / x.dtype.type(3) + x.dtype.type(0.5), x.dtype.type(1)))


def _hardswish_second(x):
    data = x._data
    return from_array(((data >= -3) & (data <= 3)).astype(data.dtype) / 3)


@register_op
@_smooth(_hardswish_np, _hardswish_derivative_np, _hardswish_second)
class Hardswish:
    """``x * relu6(x + 3) / 6``.

    >>> import ember.nn.functional as F
    >>> F.hardswish(ember.tensor([-4.0, 1.0, 4.0]))
    tensor([-0.0000,  0.6667,  4.0000])
    """

    name = "hardswish"
    functional = "only"
    out = False

    def function(input: Tensor, inplace: bool = False) -> Tensor:
        _float_input(input, "hardswish")
        if inplace:
            return _inplace(Hardswish, input, "hardswish_")
        return Hardswish(input)


@register_op
class Prelu:
    """``x`` where positive, else ``weight * x``; ``weight`` has 1 or ``input.shape[1]`` elements.

    >>> ember.prelu(ember.tensor([[-2.0, 2.0]]), ember.tensor([0.25]))
    tensor([[-0.5000,  2.0000]])
    """

    name = "prelu"
    kind = "elementwise"
    allowed = {2}
    save = ("inputs",)
    method = True
    functional = True
    out = False

    def function(input: Tensor, weight: Tensor) -> Tensor:
        _float_input(input, "prelu")
        if weight._data.ndim > 1:
            raise op_error(RuntimeError, "prelu", f"Expected `weight` to be a scalar or 1D tensor, but got: ndim = "
                           f"{weight._data.ndim}")
        count = weight._data.size
        channels = input._data.shape[1] if input._data.ndim >= 2 else 1
        if count != 1 and count != channels:
            raise op_error(RuntimeError, "prelu", f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {count} and channel size = {channels}.")
        if count != 1:
            shape = (channels,) + (1,) * (input._data.ndim - 2)
            weight = weight.reshape(shape)
        elif weight._data.ndim == 1 and input._data.ndim == 0:
            weight = weight.reshape(())
        return Prelu(input, weight)

    def forward(a, weight):
        return np.where(a > 0, a, a * weight)

    def backward(ctx, grad):
        x, weight = ctx.inputs
        positive = from_array(x._data > 0)
        grad_x = grad * Where(positive, 1.0, weight) if ctx.next_edges[0] is not None else None
        grad_weight = grad * Where(positive, 0.0, x) if ctx.next_edges[1] is not None else None
        return grad_x, grad_weight


def _rrelu_inplace(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place :func:`rrelu`.

    >>> x = ember.tensor([-1.0]); _ = ember.rrelu_(x, 0.5, 0.5); x
    tensor([-0.5000])
    """
    return rrelu(input, lower, upper, training, inplace=True)


@register_function(functional=True, inplace=_rrelu_inplace)
def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: negative slopes drawn from ``U(lower, upper)`` when training, else their mean.

    >>> ember.rrelu(ember.tensor([-1.0, 1.0]), 0.2, 0.4)
    tensor([-0.3000,  1.0000])
    """
    _float_input(input, "rrelu")
    if lower > upper:
        raise op_error(RuntimeError, "rrelu", f"Lower bound should be less than or equal to the upper bound, got "
                       f"lower={lower} and upper={upper}")
    if not training:
        return LeakyRelu.function(input, (lower + upper) / 2, inplace)
    from ember.ops.random import default_generator
    data = input._data
    slopes = default_generator.rng.uniform(lower, upper, size=data.shape)
    slopes = np.where(data >= 0, 1.0, slopes).astype(data.dtype)
    result = ActivationSlope(input, slope=slopes)
    if inplace:
        check_inplace_allowed(input, "rrelu_")
        write_result_into(input, result, "rrelu_")
        return input
    return result


@register_function(functional="only")
def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: split ``input`` in halves ``a, b`` along ``dim`` and return ``a * sigmoid(b)``.

    >>> import ember.nn.functional as F
    >>> F.glu(ember.tensor([1.0, 0.0]))
    tensor([0.5000])
    """
    if input._data.ndim == 0:
        raise op_error(RuntimeError, "glu", "glu does not support scalars because halving size must be even")
    dim = wrap_dim(dim, input._data.ndim, "glu")
    size = input._data.shape[dim]
    if size % 2:
        raise op_error(RuntimeError, "glu", f"Halving dimension must be even, but dimension {dim} is size {size}")
    half = size // 2
    lead = (slice(None),) * dim
    return input[lead + (slice(0, half),)] * Sigmoid(input[lead + (slice(half, size),)])


# ------------------------------------------------------------------------------------ softmax family
_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_ONES = {}


def _ones(n, dtype):
    """A cached read-only vector of ``n`` ones (the right operand of a BLAS row sum)."""
    key = (n, dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) > 64:
            _ONES.clear()
        ones = _ONES[key] = np.ones(n, dtype=dtype)
        ones.flags.writeable = False
    return ones


def _sum_along(a, axis):
    """``a.sum(axis, keepdims=True)``; over the last axis of a contiguous float array it is one BLAS
    matrix-vector product, about three times faster than NumPy's pairwise sum and as accurate for rows
    of a few thousand terms."""
    n = a.shape[-1]
    if (axis == a.ndim - 1 or axis == -1) and n >= 16 and a.dtype in _BLAS_FLOATS and a.flags.c_contiguous:
        return np.matmul(a.reshape(-1, n), _ones(n, a.dtype)).reshape(a.shape[:-1] + (1,))
    return a.sum(axis=axis, keepdims=True)


def _dot_along(a, b, axis):
    """``(a * b).sum(axis, keepdims=True)`` without the full-size product."""
    if axis == a.ndim - 1 and a.dtype == b.dtype and a.shape == b.shape:
        return np.einsum("...i,...i->...", a, b)[..., None]
    return _sum_along(a * b, axis)


def _rowwise_kernel(name, *arrays):
    """ember.kernels.rowwise's C kernel ``name`` on float32 arrays (the compile extra), or None: NumPy runs."""
    if arrays[0].dtype != np.float32:
        return None
    from ember.kernels import rowwise
    return getattr(rowwise, name)(*arrays)


def _softmax_np(x, axis):
    if axis == x.ndim - 1:
        fused = _rowwise_kernel("softmax", x)
        if fused is not None:
            return fused
    out = np.subtract(x, x.max(axis=axis, keepdims=True))
    np.exp(out, out=out)
    sums = _sum_along(out, axis)
    out *= np.reciprocal(sums, out=sums)
    return out


def _log_softmax_parts(x, axis):
    """``(log_softmax(x), exp(x - max), sums)``: softmax is ``exp(x - max) / sums``, so a backward that
    needs the probabilities does not evaluate ``exp`` again."""
    out = np.subtract(x, x.max(axis=axis, keepdims=True))
    shifted_exp = np.exp(out)
    sums = _sum_along(shifted_exp, axis)
    with np.errstate(divide="ignore"):
        out -= np.log(sums)
    return out, shifted_exp, sums


def _log_softmax_np(x, axis):
    return _log_softmax_parts(x, axis)[0]


def _along(fn, a, dim, *more):
    """Apply ``fn(x, ..., axis)`` in the compute precision (``dtypes.opmath``), treating a 0-d tensor as one
    element."""
    if a.size == 0:
        return np.empty(a.shape, dtype=a.dtype)
    x = opmath(a)
    if x.ndim == 0:
        out = fn(x.reshape(1), *[opmath(m).reshape(1) for m in more], 0).reshape(())
    else:
        out = fn(x, *[opmath(m) for m in more], dim)
    return rounded_like(out, a)


def _softmax_dim(input, dim, op_name, stacklevel):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op_name} has been deprecated. Change the call to include "
                      "dim=X as an argument.", UserWarning, stacklevel=stacklevel)
        ndim = input._data.ndim
        dim = 0 if ndim in (0, 1, 3) else 1
    return wrap_dim(dim, input._data.ndim, op_name)


def _softmax_input(input, dtype, op_name):
    if not isinstance(input, Tensor):
        raise op_error(TypeError, op_name, f"{op_name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if dtype is not None:
        target = _dt.to_dtype(dtype)
        if target is not input._dtype:
            input = Cast(input, dtype=target)
    if input._dtype.category < 2:
        raise op_error(NotImplementedError, op_name, f'"{op_name}" not implemented for '
                       f"'{torch_type_name(input._dtype)}'; pass a floating point tensor or dtype=")
    return input


@register_op
class Softmax:
    """``exp(x) / exp(x).sum(dim)``, computed stably; ``dtype`` casts the input first.

    >>> ember.softmax(ember.tensor([1.0, 1.0, 1.0, 1.0]), dim=0)
    tensor([0.2500, 0.2500, 0.2500, 0.2500])
    """

    name = "softmax"
    kind = "reduce"
    allowed = {2}
    save = ("output",)
    softmax_chain_role = "softmax"  # ember.compile fuses a scale and a mask before it into one pass
    method = True
    functional = True
    out = False

    def function(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
        input = _softmax_input(input, dtype, "softmax")
        return Softmax(input, dim=_softmax_dim(input, dim, "softmax", _stacklevel))

    def forward(ctx, a, dim):
        ctx.dim = dim
        with np.errstate(invalid="ignore", over="ignore"):
            return _along(_softmax_np, a, dim)

    def backward(ctx, grad):
        return SoftmaxBackward(grad, ctx.output, dim=ctx.dim)


def _softmax_grad_np(grad, out, axis):
    if axis == out.ndim - 1:
        fused = _rowwise_kernel("softmax_backward", grad, out)
        if fused is not None:
            return fused
    result = np.subtract(grad, _dot_along(grad, out, axis))
    result *= out
    return result


@register_op
class SoftmaxBackward:
    name = "softmax_backward"
    kind = "reduce"
    save = ("inputs",)

    def forward(ctx, grad, out, dim):
        ctx.dim = dim
        return _along(lambda o, g, axis: _softmax_grad_np(g, o, axis), out, dim, grad)

    def backward(ctx, grad_grad):
        grad, out = ctx.inputs
        dim = ctx.dim
        grad_of_grad = SoftmaxBackward(grad_grad, out, dim=dim) if ctx.next_edges[0] is not None else None
        grad_of_out = None
        if ctx.next_edges[1] is not None:
            keep = out._data.ndim > 0
            inner = (grad * out).sum(dim, keepdim=True) if keep else grad * out
            weighted = (grad_grad * out).sum(dim, keepdim=True) if keep else grad_grad * out
            grad_of_out = grad_grad * (grad - inner) - grad * weighted
        return grad_of_grad, grad_of_out


@register_op
class LogSoftmax:
    """``x - logsumexp(x, dim)``, computed stably.

    >>> ember.log_softmax(ember.tensor([0.0, 0.0]), dim=-1)
    tensor([-0.6931, -0.6931])
    """

    name = "log_softmax"
    kind = "reduce"
    allowed = {2}
    save = ("output",)
    method = True
    functional = True
    out = False

    def function(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
        input = _softmax_input(input, dtype, "log_softmax")
        return LogSoftmax(input, dim=_softmax_dim(input, dim, "log_softmax", _stacklevel))

    def forward(ctx, a, dim):
        ctx.dim = dim
        with np.errstate(invalid="ignore", over="ignore"):
            return _along(_log_softmax_np, a, dim)

    def backward(ctx, grad):
        return LogSoftmaxBackward(grad, ctx.output, dim=ctx.dim)


def _log_softmax_grad_np(grad, out, axis):
    result = np.exp(out)
    result *= _sum_along(grad, axis)
    np.subtract(grad, result, out=result)
    return result


@register_op
class LogSoftmaxBackward:
    name = "log_softmax_backward"
    kind = "reduce"
    save = ("inputs",)

    def forward(ctx, grad, out, dim):
        ctx.dim = dim
        return _along(lambda o, g, axis: _log_softmax_grad_np(g, o, axis), out, dim, grad)

    def backward(ctx, grad_grad):
        grad, out = ctx.inputs
        dim = ctx.dim
        keep = out._data.ndim > 0
        probabilities = Exp(out)
        grad_of_grad = grad_of_out = None
        if ctx.next_edges[0] is not None:
            weighted = grad_grad * probabilities
            grad_of_grad = grad_grad - (weighted.sum(dim, keepdim=True) if keep else weighted)
        if ctx.next_edges[1] is not None:
            total = grad.sum(dim, keepdim=True) if keep else grad
            grad_of_out = -(grad_grad * probabilities * total)
        return grad_of_grad, grad_of_out


@register_function(functional="only")
def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """``softmax(-x)``.

    >>> import ember.nn.functional as F
    >>> F.softmin(ember.tensor([0.0, 0.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    input = _softmax_input(input, dtype, "softmin")
    return Softmax(-input, dim=_softmax_dim(input, dim, "softmin", _stacklevel))


@register_function(functional="only")
def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """Sample from the Gumbel-softmax distribution; ``hard=True`` returns one-hot samples with soft gradients.

    >>> import ember.nn.functional as F
    >>> _ = ember.manual_seed(0)
    >>> F.gumbel_softmax(ember.zeros(2, 3), hard=True).sum(-1)
    tensor([1., 1.])
    """
    from ember.ops.random import default_generator
    dim = wrap_dim(dim, logits._data.ndim, "gumbel_softmax")
    gumbels = -np.log(default_generator.rng.exponential(size=logits._data.shape)).astype(logits._data.dtype)
    soft = Softmax((logits + from_array(gumbels)) / tau, dim=dim)
    if not hard:
        return soft
    data = soft._data
    index = data.argmax(axis=dim) if data.ndim else np.zeros((), dtype=np.int64)
    one_hot = np.zeros_like(data)
    if data.ndim:
        np.put_along_axis(one_hot, np.expand_dims(index, dim), 1, axis=dim)
    else:
        one_hot[...] = 1
    return from_array(one_hot) - soft.detach() + soft


# ------------------------------------------------------------------------------------ dropout
def _keep_mask(shape, p, dtype):
    """A keep-mask scaled by ``1 / (1 - p)``, drawn from ember's default generator."""
    from ember.ops import random as random_ops
    maker = getattr(random_ops, "dropout_mask", None)
    if maker is not None:
        mask = maker(shape, p, dtype)
        return mask._data if isinstance(mask, Tensor) else mask
    keep = random_ops.default_generator.rng.random(shape) >= p
    scale = 1.0 / (1.0 - p)
    return (keep * scale).astype(dtype.numpy_dtype)


def _check_p(p, op_name):
    if p < 0.0 or p > 1.0:
        raise op_error(ValueError, op_name, f"dropout probability has to be between 0 and 1, but got {p}")


def _apply_mask(input, mask_array, inplace, op_name):
    result = ActivationSlope(input, slope=mask_array)
    if inplace:
        check_inplace_allowed(input, op_name)
        write_result_into(input, result, op_name)
        return input
    return result


def _dropout_inplace(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """In-place :func:`dropout`.

    >>> x = ember.ones(3); _ = ember.dropout_(x, 0.0); x
    tensor([1., 1., 1.])
    """
    return dropout(input, p, training, inplace=True)


# torch.nn.functional has dropout but not dropout_ (ember, as torch, has both)
@register_function(names=("nn.functional.dropout",))
@register_function(inplace=_dropout_inplace)
def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (identity when not training).

    >>> _ = ember.manual_seed(0)
    >>> y = ember.dropout(ember.ones(1000), 0.5)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """
    _check_p(p, "dropout")
    if not training or p == 0:
        return input
    if p == 1:
        return _apply_mask(input, np.zeros(input._data.shape, dtype=input._data.dtype), inplace, "dropout_")
    return _apply_mask(input, _keep_mask(input._data.shape, p, input._dtype), inplace, "dropout_")


def _feature_mask_shape(shape):
    """One draw per (batch, channel): the mask broadcasts over the spatial dims."""
    return tuple(shape[:2]) + (1,) * (len(shape) - 2)


def _feature_dropout(input, p, training, inplace, op_name, alpha=False):
    _check_p(p, op_name)
    if not training or p == 0:
        return input
    shape = _feature_mask_shape(input._data.shape) if input._data.ndim >= 2 else input._data.shape
    if alpha:
        return _alpha_dropout(input, p, inplace, op_name, shape)
    if p == 1:
        return _apply_mask(input, np.zeros(shape, dtype=input._data.dtype), inplace, op_name + "_")
    return _apply_mask(input, _keep_mask(shape, p, input._dtype), inplace, op_name + "_")


def _nd_dropout(input, p, training, inplace, op_name, spatial):
    """dropout1d/2d/3d: a batched (N, C, *spatial) or unbatched (C, *spatial) input."""
    ndim = input._data.ndim
    batched, unbatched = spatial + 2, spatial + 1
    if spatial == 1 and ndim not in (2, 3):
        raise op_error(RuntimeError, op_name, f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. "
                       "Note that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
                       "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    if spatial == 2 and ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {ndim}-D input to dropout2d, which is deprecated and will result in "
                      "an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      "inputs).", UserWarning, stacklevel=3)
    if spatial == 2 and ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", UserWarning, stacklevel=3)
        return _feature_dropout(input, p, training, inplace, op_name)
    if spatial == 3 and ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {ndim}-D input to dropout3d, which is deprecated and will result in "
                      "an error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      "inputs).", UserWarning, stacklevel=3)
    _check_p(p, op_name)
    if ndim == unbatched:
        result = _feature_dropout(input.unsqueeze(0), p, training, False, op_name).squeeze(0)
        if inplace and training and p > 0:
            check_inplace_allowed(input, op_name + "_")
            write_result_into(input, result, op_name + "_")
            return input
        return result if result is not None else input
    del batched
    return _feature_dropout(input, p, training, inplace, op_name)


@register_function(functional="only")
def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, L) or (C, L) input with probability ``p``.

    >>> import ember.nn.functional as F
    >>> F.dropout1d(ember.ones(2, 3, 4), 0.5, training=False).shape
    ember.Size([2, 3, 4])
    """
    return _nd_dropout(input, p, training, inplace, "dropout1d", 1)


@register_function(functional="only")
def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, H, W) or (C, H, W) input with probability ``p``.

    >>> import ember.nn.functional as F
    >>> _ = ember.manual_seed(0)
    >>> y = F.dropout2d(ember.ones(1, 8, 2, 2), 0.5).numpy()
    >>> bool(((y == 0).all((2, 3)) | (y == 2).all((2, 3))).all())
    True
    """
    return _nd_dropout(input, p, training, inplace, "dropout2d", 2)


@register_function(functional="only")
def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability ``p``.

    >>> import ember.nn.functional as F
    >>> F.dropout3d(ember.ones(1, 2, 1, 1, 1), 0.0).sum().item()
    2.0
    """
    return _nd_dropout(input, p, training, inplace, "dropout3d", 3)


def _feature_dropout_inplace(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place :func:`feature_dropout`.

    >>> x = ember.ones(2, 2); _ = ember.feature_dropout_(x, 0.0, True); x.sum().item()
    4.0
    """
    return _feature_dropout(input, p, train, True, "feature_dropout")


@register_function(inplace=_feature_dropout_inplace)
def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Channel-wise dropout on dims (N, C, ...) (``torch.feature_dropout``).

    >>> ember.feature_dropout(ember.ones(2, 2), 0.5, False).sum().item()
    4.0
    """
    return _feature_dropout(input, p, train, False, "feature_dropout")


_ALPHA_PRIME = -_SELU_ALPHA * _SELU_SCALE


def _alpha_dropout(input, p, inplace, op_name, mask_shape):
    """Dropped units are set to SELU's negative saturation and an affine map keeps mean and variance."""
    if p == 1:
        return _apply_mask(input, np.zeros(input._data.shape, dtype=input._data.dtype), inplace, op_name + "_")
    from ember.ops import random as random_ops
    keep = random_ops.default_generator.rng.random(mask_shape) >= p
    a = 1.0 / math.sqrt((_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    b = -a * _ALPHA_PRIME * p
    dtype = input._data.dtype
    scale = (keep * a).astype(dtype)
    shift = ((~keep) * (a * _ALPHA_PRIME) + b).astype(dtype)
    result = ActivationSlope(input, slope=scale) + from_array(shift)
    if inplace:
        check_inplace_allowed(input, op_name + "_")
        write_result_into(input, result, op_name + "_")
        return input
    return result


def _alpha_dropout_inplace(input: Tensor, p: float = 0.5, training: bool = False) -> Tensor:
    """In-place :func:`alpha_dropout`.

    >>> x = ember.ones(2); _ = ember.alpha_dropout_(x, 0.5, False); x
    tensor([1., 1.])
    """
    return alpha_dropout(input, p, training, inplace=True)


# torch.nn.functional has alpha_dropout but not alpha_dropout_ (ember, as torch, has both)
@register_function(names=("nn.functional.alpha_dropout",))
@register_function(inplace=_alpha_dropout_inplace)
def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout for SELU networks: keeps the input's mean and variance (identity when not training).

    >>> ember.alpha_dropout(ember.ones(3), 0.5).sum().item()
    3.0
    """
    _check_p(p, "alpha_dropout")
    if not training or p == 0:
        return input
    return _alpha_dropout(input, p, inplace, "alpha_dropout", input._data.shape)


def _feature_alpha_dropout_inplace(input: Tensor, p: float = 0.5, training: bool = False) -> Tensor:
    """In-place :func:`feature_alpha_dropout`.

    >>> x = ember.ones(2, 2); _ = ember.feature_alpha_dropout_(x, 0.5, False); x.sum().item()
    4.0
    """
    return feature_alpha_dropout(input, p, training, inplace=True)


# torch.nn.functional has feature_alpha_dropout but not feature_alpha_dropout_ (ember, as torch, has both)
@register_function(names=("nn.functional.feature_alpha_dropout",))
@register_function(inplace=_feature_alpha_dropout_inplace)
def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels of an (N, C, ...) input.

    >>> import ember.nn.functional as F
    >>> F.feature_alpha_dropout(ember.ones(2, 3), 0.5).sum().item()
    6.0
    """
    return _feature_dropout(input, p, training, inplace, "feature_alpha_dropout", alpha=True)
