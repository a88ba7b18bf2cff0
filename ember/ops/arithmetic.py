"""Operators: what Python spells with a symbol on numbers, and their named forms.

The rule for which elementwise file an op lives in: an op Python writes as an operator or an assignment
(``+ - * / // % **``, unary ``-``/``+``, ``abs()``, comparisons, ``& | ^ ~ << >>``, logical ``and/or/not``,
``x if c else y`` as ``where``, ``=`` as ``copy_``/``fill_`` and the dtype conversion ``cast``) is here;
every mathematical function (``exp``, ``sqrt``, ``sin``, ``erf``, ``clamp`` ...) is in
``math_functions.py``. Both register their ops once (kind ``elementwise``); the function, method, in-place
and ``out=`` forms are generated from the definitions (see ``registry.py``). Gradients of broadcast
operands are summed back to their shapes by the autograd engine.

>>> import ember
>>> ember.add(ember.tensor([1, 2]), 1.5)
tensor([2.5000, 3.5000])
>>> x = ember.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward(); x.grad
tensor([2., 4.])
"""

from __future__ import annotations

import numpy as np

from ember import dtypes as _dt
from ember.autograd.grad_mode import STATE
from ember.errors import op_error
from ember.ops.registry import (apply_inplace, check_inplace_allowed, register_function, register_op, write_out,
                                write_result_into)
from ember.tensor import Tensor, from_array


def _need(ctx, i):
    """Whether operand ``i`` of the recorded op needs a gradient."""
    return ctx.next_edges[i] is not None


def _broadcasts_into(shape, target):
    """Whether an array of ``shape`` broadcasts to exactly ``target`` (``np.broadcast_shapes`` costs ~10 us)."""
    if shape == target:
        return True
    if len(shape) > len(target):
        return False
    return all(s == 1 or s == t for s, t in zip(shape[::-1], target[::-1]))


# ------------------------------------------------------------------------------------------ dtype cast
@register_op
class Cast:
    """A copy of ``input`` in ``dtype`` (``Tensor.to(dtype)``); gradients flow back in the source dtype.

    >>> ember.cast(ember.tensor([1.7]), ember.int64)
    tensor([1])
    """

    name = "cast"
    kind = "elementwise"
    promote = "none"
    out = False

    def function(input, dtype):
        return Cast(input, dtype=_dt.to_dtype(dtype))

    def forward(a, dtype):
        return a.astype(dtype.numpy_dtype)

    def backward(ctx, grad):
        return grad


def opmath_tensor(t):
    """``t`` in the precision backward formulas compute in (``dtypes.opmath``'s rule for tensors): half tensors
    as float32, so a formula rounds once (the engine casts the gradient back to the input's dtype), as
    PyTorch's kernels do; anything else as it is.

    >>> opmath_tensor(ember.ones(2, dtype=ember.float16)).dtype
    ember.float32
    """
    if isinstance(t, Tensor) and t._data.dtype in _dt.HALF_NUMPY_DTYPES:
        return Cast(t, dtype=_dt.float32)
    return t


# ------------------------------------------------------------------------------------------ arithmetic
def _scaled(other, alpha):
    """``alpha * other`` for the ``alpha=`` of add and sub."""
    return Mul(other, alpha) if isinstance(other, Tensor) else other * alpha


@register_op
class Add:
    """``input + alpha * other`` with broadcasting and type promotion.

    >>> ember.add(ember.tensor([1.0, 2.0]), ember.tensor([10.0, 20.0]), alpha=2)
    tensor([21., 42.])
    """

    name = "add"
    kind = "elementwise"
    ufunc = np.add
    method = True
    c_form = "({a} + {b})"

    def function(input, other, *, alpha=1, out=None):
        if alpha != 1:
            other = Mul(other, alpha)
        result = Add(input, other)
        return result if out is None else write_out(result, out)

    def inplace(self, other, *, alpha=1):
        """In-place ``self += alpha * other``.

        >>> ember.tensor([1.0, 2.0]).add_(ember.tensor([1.0, 1.0]), alpha=0.5)
        tensor([1.5000, 2.5000])
        """
        return apply_inplace(Add, self, _scaled(other, alpha) if alpha != 1 else other)

    def forward(a, b):
        return a + b

    def backward(ctx, grad):
        return grad, grad


def _check_not_bool(op_name, a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._dtype is _dt.bool and b._dtype is _dt.bool:
        raise op_error(RuntimeError, op_name, "Subtraction, the `-` operator, with two bool tensors is not "
                       "supported. Use the `^` or `logical_xor()` operator instead.")


@register_op
class Sub:
    """``input - alpha * other``.

    >>> ember.sub(ember.tensor([5, 6]), 1)
    tensor([4, 5])
    """

    name = "sub"
    names = ("sub", "subtract")
    kind = "elementwise"
    ufunc = np.subtract
    allowed = {1, 2}
    method = True
    c_form = "({a} - {b})"
    identities = ((0, 1, 0),)  # x - 0 (not 0 - x)

    def function(input, other, *, alpha=1, out=None):
        _check_not_bool("sub", input, other)
        if alpha != 1:
            other = Mul(other, alpha)
        result = Sub(input, other)
        return result if out is None else write_out(result, out)

    def inplace(self, other, *, alpha=1):
        """In-place ``self -= alpha * other``.

        >>> ember.tensor([5.0, 6.0]).sub_(ember.tensor([1.0, 2.0]), alpha=2)
        tensor([3., 2.])
        """
        return apply_inplace(Sub, self, _scaled(other, alpha) if alpha != 1 else other)

    def forward(a, b):
        return a - b

    def backward(ctx, grad):
        return grad, -grad


@register_op
class Mul:
    """``input * other``.

    >>> ember.mul(ember.tensor([1, 2]), 3)
    tensor([3, 6])
    """

    name = "mul"
    names = ("mul", "multiply")
    kind = "elementwise"
    save = ("inputs",)
    method = True
    inplace = True
    c_form = "({a} * {b})"
    identities = ((0, 1, 1), (1, 0, 1))  # x * 1, 1 * x
    softmax_chain_role = "scale"

    def keep_inputs(edges):
        """Each operand is kept only for the other's gradient: ``scores * scale`` keeps no copy of the scores."""
        return edges[1] is not None, edges[0] is not None

    def forward(a, b):
        if a.dtype == np.bool_:
            return np.logical_and(a, b)
        return a * b

    def inplace_forward(out, b):
        np.multiply(out, b, out=out, casting="unsafe")

    def backward(ctx, grad):
        a, b = ctx.inputs
        return (grad * b if _need(ctx, 0) else None), (grad * a if _need(ctx, 1) else None)


@register_op
class Div:
    """True division; ``rounding_mode`` ``"trunc"`` or ``"floor"`` rounds the quotient.

    >>> ember.div(ember.tensor([7, -7]), 2, rounding_mode="floor")
    tensor([ 3, -4])
    """

    name = "div"
    names = ("div", "divide", "true_divide")
    kind = "elementwise"
    promote = "float"
    ufunc = np.true_divide
    save = ("inputs",)
    method = True
    c_form = "({a} / {b})"
    identities = ((0, 1, 1),)  # x / 1

    def function(input, other, *, rounding_mode=None, out=None):
        if rounding_mode is None:
            result = Div(input, other)
            return result if out is None else write_out(result, out)
        if rounding_mode == "floor":
            result = FloorDivide(input, other)
            return result if out is None else write_out(result, out)
        if rounding_mode == "trunc":
            from ember.ops.math_functions import Trunc
            result = Trunc(Div(input, other))
            dt = _dt.result_type_of((input, other))
            result = result if dt.is_floating_point else Cast(result, dtype=dt)
            return result if out is None else write_out(result, out)
        raise op_error(RuntimeError, "div", f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                       f"found {rounding_mode!r}")

    def inplace(self, other, *, rounding_mode=None):
        """In-place division.

        >>> ember.tensor([7.0, -7.0]).div_(2, rounding_mode="trunc")
        tensor([ 3., -3.])
        """
        if rounding_mode is not None:
            write_result_into(self, Div.function(self, other, rounding_mode=rounding_mode), "div_")
            return self
        return apply_inplace(Div, self, other)

    def forward(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.true_divide(a, b)

    def backward(ctx, grad):
        a, b = ctx.inputs
        grad_a = grad / b if _need(ctx, 0) else None
        grad_b = -grad * a / (b * b) if _need(ctx, 1) else None
        return grad_a, grad_b


@register_op
class Neg:
    """``-input``.

    >>> ember.neg(ember.tensor([1, -2]))
    tensor([-1,  2])
    """

    name = "neg"
    names = ("neg", "negative")
    kind = "elementwise"
    ufunc = np.negative
    allowed = {1, 2}
    method = True
    inplace = True
    c_form = "(-{a})"
    involution = True  # -(-x) is x

    def function(input, *, out=None):
        if isinstance(input, Tensor) and input._dtype is _dt.bool:
            raise op_error(RuntimeError, "neg", "Negation, the `-` operator, on a bool tensor is not supported. If you "
                           "are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        result = Neg(input)
        return result if out is None else write_out(result, out)

    def forward(a):
        return np.negative(a)

    def backward(ctx, grad):
        return -grad


@register_function(method=True)
def positive(input):
    """``input`` itself (the unary ``+``); bool tensors are rejected as in PyTorch.

    >>> ember.positive(ember.tensor([-1, 2]))
    tensor([-1,  2])
    """
    if input._dtype is _dt.bool:
        raise op_error(RuntimeError, "positive", "The `+` operator, on a bool tensor is not supported.")
    return input


@register_op
class Abs:
    """Absolute value.

    >>> ember.abs(ember.tensor([-1.5]))
    tensor([1.5000])
    """

    name = "abs"
    names = ("abs", "absolute")
    kind = "elementwise"
    save = ("inputs",)
    ufunc = np.abs
    method = True
    inplace = True
    c_form = "fabsf({a})"

    def forward(a):
        return np.abs(a)

    def backward(ctx, grad):
        (a,) = ctx.inputs
        from ember.ops.math_functions import Sign
        return grad * Sign(a)


@register_op
class Pow:
    """``input ** exponent``; either may be a scalar.

    >>> ember.pow(ember.tensor([2.0, 3.0]), 2)
    tensor([4., 9.])
    """

    name = "pow"
    kind = "elementwise"
    save = ("inputs", "output")
    operands = ("input", "exponent")  # torch.pow(input, exponent)
    method = True
    inplace = True
    identities = ((0, 1, 1),)  # x ** 1

    def forward(a, b):
        if a.dtype.kind in "iu" and np.any(np.asarray(b) < 0):
            raise ValueError("Integers to negative integer powers are not allowed.")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.power(a, b)

    def inplace_forward(out, b):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            np.power(out, b, out=out, casting="unsafe")

    def backward(ctx, grad):
        from ember.ops.math_functions import Log
        a, b = ctx.inputs
        grad_a = grad_b = None
        if _need(ctx, 0):
            if isinstance(b, Tensor):
                grad_a = grad * b * Where(b == 0, 1.0, a) ** (b - 1) * (b != 0)
            elif b == 0:
                grad_a = grad * 0
            else:
                grad_a = grad * b * a ** (b - 1)
        if _need(ctx, 1):
            out = ctx.output
            if isinstance(a, Tensor):
                safe_log = Where((a == 0) & (b >= 0), 0.0, Log(a))
                grad_b = grad * out * safe_log
            else:
                grad_b = grad * out * float(np.log(a)) if a > 0 else grad * out * float(np.log(a) if a != 0 else 0.0)
        return grad_a, grad_b


def _check_integer_divisor(op_name, a, b):
    """Integer division by zero is an error in PyTorch (a RuntimeError), not a silent 0."""
    if a.dtype.kind in "iub" and np.any(np.asarray(b) == 0):
        raise op_error(RuntimeError, op_name, "ZeroDivisionError: integer division by zero")


@register_op
class FloorDivide:
    """Division rounded down (Python's ``//``).

    >>> ember.floor_divide(ember.tensor([7, -7]), 2)
    tensor([ 3, -4])
    """

    name = "floor_divide"
    kind = "elementwise"
    allowed = {1, 2}
    method = True
    inplace = True

    def forward(a, b):
        _check_integer_divisor("floor_divide", a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.floor_divide(a, b)


@register_op
class Remainder:
    """Python's modulus: the result has the sign of the divisor.

    >>> ember.remainder(ember.tensor([-3, 3]), 2)
    tensor([1, 1])
    """

    name = "remainder"
    kind = "elementwise"
    allowed = {1, 2}
    save = ("inputs",)
    method = True
    inplace = True

    def forward(a, b):
        _check_integer_divisor("remainder", a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.remainder(a, b)

    def backward(ctx, grad):
        a, b = ctx.inputs
        grad_b = None
        if _need(ctx, 1):
            grad_b = -grad * FloorDivide(a, b)
        return grad, grad_b


# ------------------------------------------------------------------------------------------ comparisons
def _comparison(op_name, names, compute):
    """Register an elementwise comparison: a bool tensor, with function, method and in-place forms."""
    doc = (f"Elementwise ``{op_name}`` comparison, returning a bool tensor.\n\n"
           f"    >>> ember.{op_name}(ember.tensor([1, 2, 3]), 2)\n"
           f"    tensor([{', '.join(f'{compute(x, 2)!s:>5}' for x in (1, 2, 3))}])\n")
    return register_op(type(op_name.title(), (), {
        "__doc__": doc, "name": op_name, "names": names, "kind": "elementwise", "promote": "standard",
        "forward": staticmethod(compute), "method": True, "inplace": True, "__module__": __name__}))


Eq = _comparison("eq", ("eq",), np.equal)
Ne = _comparison("ne", ("ne", "not_equal"), np.not_equal)
Lt = _comparison("lt", ("lt", "less"), np.less)
Le = _comparison("le", ("le", "less_equal"), np.less_equal)
Gt = _comparison("gt", ("gt", "greater"), np.greater)
Ge = _comparison("ge", ("ge", "greater_equal"), np.greater_equal)


@register_function(method=True)
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (infinities equal only to themselves), a bool tensor.

    >>> ember.isclose(ember.tensor([1.0, 2.0, float("nan")]), ember.tensor([1.0 + 1e-9, 2.1, float("nan")]))
    tensor([ True, False, False])
    """
    from ember.ops.creation import as_tensor
    a, b = as_tensor(input), as_tensor(other)
    if a._dtype is not b._dtype:
        raise op_error(RuntimeError, "isclose", f"expected both inputs to have the same dtype, got {a._dtype} and "
                                                f"{b._dtype}")
    if rtol < 0 or atol < 0:
        raise op_error(RuntimeError, "isclose", f"rtol ({rtol}) and atol ({atol}) must be non-negative")
    x, y = a._data, b._data
    if a._dtype.is_floating_point:
        x, y = x.astype(np.float64), y.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            result = np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan)
    else:
        result = np.abs(x.astype(np.float64) - y.astype(np.float64)) <= atol + rtol * np.abs(y.astype(np.float64))
    return from_array(np.asarray(result))


@register_function(method=True)
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see :func:`isclose`).

    >>> ember.allclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-7]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@register_function(method=True)
def equal(input, other) -> bool:
    """Whether both tensors have the same shape and elements (after type promotion, as torch).

    >>> ember.equal(ember.tensor([1, 2]), ember.tensor([1.0, 2.0])), ember.equal(ember.ones(2), ember.ones(3))
    (True, False)
    """
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(np.array_equal(input._data, other._data))


# ------------------------------------------------------------------------------------------ bitwise and logic
def _bitwise(op_name, compute, ufunc=None, operands=2):
    """Register an op on integer and bool tensors, with function, method and in-place forms."""
    example = "ember.tensor([12])" + (", 10" if operands == 2 else "")
    doc = (f"Elementwise ``{op_name}`` on integer or bool tensors.\n\n"
           f"    >>> ember.{op_name}({example})\n"
           f"    tensor([{compute(*[np.int64(12), np.int64(10)][:operands])}])\n")
    return register_op(type(op_name.title().replace("_", ""), (), {
        "__doc__": doc, "name": op_name, "kind": "elementwise", "allowed": {0, 1}, "forward": staticmethod(compute),
        "ufunc": ufunc, "method": True, "inplace": True, "__module__": __name__}))


BitwiseAnd = _bitwise("bitwise_and", np.bitwise_and, np.bitwise_and)
BitwiseOr = _bitwise("bitwise_or", np.bitwise_or, np.bitwise_or)
BitwiseXor = _bitwise("bitwise_xor", np.bitwise_xor, np.bitwise_xor)
BitwiseNot = _bitwise("bitwise_not", np.invert, np.invert, operands=1)
BitwiseLeftShift = _bitwise("bitwise_left_shift", np.left_shift)
BitwiseRightShift = _bitwise("bitwise_right_shift", np.right_shift)


def _logical(op_name, compute, operands=2):
    """Register a logical op: nonzero is True, the result is bool; the in-place form casts it back."""
    first, second = np.array([0, 3, 0]), np.array([1, 1, 0])
    example = "ember.tensor([0, 3, 0])" + (", ember.tensor([1, 1, 0])" if operands == 2 else "")
    values = compute(first, second) if operands == 2 else compute(first)
    doc = (f"Elementwise ``{op_name}`` treating nonzero as True; returns bool.\n\n"
           f"    >>> ember.{op_name}({example})\n"
           f"    tensor([{', '.join(f'{v!s:>5}' for v in values)}])\n")

    def function(input, other=None):
        from ember.ops.creation import as_tensor
        return op(as_tensor(input)) if operands == 1 else op(as_tensor(input), as_tensor(other))

    op = register_op(type(op_name.title().replace("_", ""), (), {
        "__doc__": doc, "name": op_name, "kind": "elementwise", "promote": "none",
        "forward": staticmethod(lambda *arrays: compute(*arrays)), "function": function, "method": True,
        "inplace": True, "__module__": __name__}))
    return op


LogicalAnd = _logical("logical_and", np.logical_and)
LogicalOr = _logical("logical_or", np.logical_or)
LogicalXor = _logical("logical_xor", np.logical_xor)
LogicalNot = _logical("logical_not", np.logical_not, operands=1)


@register_op
class Where:
    """Elements of ``input`` where ``condition`` holds, else of ``other``; ``where(cond)`` is ``nonzero``.

    >>> ember.where(ember.tensor([True, False]), ember.tensor([1.0, 2.0]), 0.0)
    tensor([1., 0.])
    """

    name = "where"
    kind = "elementwise"
    save = ("inputs",)
    promote_args = (1, 2)
    method = True

    def function(condition, input=None, other=None, *, out=None):
        if input is None and other is None:
            from ember.ops.index import nonzero
            return nonzero(condition, as_tuple=True)
        if not isinstance(condition, Tensor):
            from ember.ops.creation import tensor
            condition = tensor(condition)
        if condition._dtype is not _dt.bool:
            if condition._dtype is _dt.uint8:
                condition = Cast(condition, dtype=_dt.bool)
            else:
                raise op_error(RuntimeError, "where", f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {condition._dtype.name.title()}")
        result = Where(condition, input, other)
        return result if out is None else write_out(result, out)

    def forward(condition, a, b):
        return np.where(condition, a, b)

    def backward(ctx, grad):
        condition, a, b = ctx.inputs
        zero = grad * 0
        return None, Where(condition, grad, zero), Where(condition, zero, grad)


# ------------------------------------------------------------------------------------------ assignment
@register_op
class Fill:
    """A new tensor of ``input``'s shape and dtype filled with ``value``.

    >>> ember.fill(ember.zeros(2), 3)
    tensor([3., 3.])
    """

    name = "fill"
    kind = "elementwise"
    promote = "none"
    out = False

    def function(input, value):
        _check_fill_value(value)
        return Fill(input, value)

    def forward(a, value):
        out = np.empty(a.shape, dtype=a.dtype)
        np.copyto(out, value, casting="unsafe")
        return out

    def backward(ctx, grad):
        return (grad * 0 if _need(ctx, 0) else None, grad.sum() if _need(ctx, 1) else None)


def _check_fill_value(value):
    if isinstance(value, Tensor) and value._data.ndim:
        raise op_error(RuntimeError, "fill_", f"fill_ only supports 0-dimension value tensor but got tensor with "
                       f"{value._data.ndim} dimensions.")


@register_function(method=True)
def fill_(self, value):
    """Fill ``self`` with ``value`` (a number or a 0-d tensor, which then receives the gradient).

    >>> t = ember.zeros(3); t.fill_(2.5)
    tensor([2.5000, 2.5000, 2.5000])
    """
    _check_fill_value(value)
    check_inplace_allowed(self, "fill_")
    if STATE.enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
        write_result_into(self, Fill(self, value), "fill_")
        return self
    fill_value = value._data if isinstance(value, Tensor) else value
    try:
        np.copyto(self._data, fill_value, casting="unsafe") if isinstance(value, Tensor) else self._data.fill(value)
    except (OverflowError, TypeError, ValueError) as e:
        raise op_error(RuntimeError, "fill_", f"value {value!r} cannot be converted to type {self._dtype.name} "
                       f"without overflow ({e})") from None
    self._version.value += 1
    return self


@register_function(method=True)
def zero_(self):
    """Fill ``self`` with zeros.

    >>> ember.ones(2).zero_()
    tensor([0., 0.])
    """
    return fill_(self, 0)


@register_op
class Copy:
    """``src`` broadcast to ``a``'s shape and cast to its dtype (``copy_``); the gradient flows to ``src``."""

    name = "copy"
    kind = "elementwise"
    promote = "none"

    def forward(a, src):
        out = np.empty(a.shape, dtype=a.dtype)
        np.copyto(out, src, casting="unsafe")
        return out

    def backward(ctx, grad):
        return (grad * 0 if _need(ctx, 0) else None, grad if _need(ctx, 1) else None)


@register_function(method=True)
def copy_(self, src, non_blocking=False):
    """Copy ``src`` into ``self``: broadcast to ``self``'s shape and cast to its dtype; gradients flow to ``src``.

    >>> t = ember.zeros(2, 2, dtype=ember.int64); t.copy_(ember.tensor([1.7, -2.7]))
    tensor([[ 1, -2],
            [ 1, -2]])
    """
    if not isinstance(src, Tensor):
        raise op_error(TypeError, "copy_", f"copy_(): argument 'src' (position 1) must be Tensor, not "
                       f"{type(src).__name__}")
    check_inplace_allowed(self, "copy_")
    if not _broadcasts_into(src._data.shape, self._data.shape):
        raise op_error(RuntimeError, "copy_", f"src of shape {tuple(src._data.shape)} cannot be broadcast to the "
                       f"destination shape {tuple(self._data.shape)}")
    if STATE.enabled and (src._requires_grad or self._requires_grad):
        write_result_into(self, Copy(self, src), "copy_")
        return self
    np.copyto(self._data, src._data, casting="unsafe")
    self._version.value += 1
    return self
