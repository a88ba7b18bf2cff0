"""Elementwise ops: arithmetic, comparisons, logic, and the unary math functions.

Each op is registered once (kind ``elementwise``); public functions and in-place variants call it.
Gradients of broadcast operands are summed back to their shapes by the autograd engine.

>>> import ember
>>> ember.add(ember.tensor([1, 2]), 1.5)
tensor([2.5000, 3.5000])
>>> x = ember.tensor([1.0, 2.0], requires_grad=True)
>>> ember.exp(x).sum().backward(); x.grad
tensor([2.7183, 7.3891])
"""

from __future__ import annotations

import numpy as np

from ember import dtypes as _dt
from ember.errors import op_error
from ember.ops.registry import apply_inplace, register_op
from ember.tensor import Tensor

__all__ = ["cast", "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg",
           "negative", "exp", "log", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal",
           "less", "less_equal", "not_equal", "abs", "absolute", "pow", "sqrt", "square",
           "floor_divide", "remainder", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
           "bitwise_left_shift", "bitwise_right_shift", "logical_and", "logical_or", "logical_xor",
           "logical_not", "isclose", "allclose", "equal"]


# ------------------------------------------------------------------------------------------ dtype cast
@register_op
class Cast:
    """Convert to another dtype (``Tensor.to(dtype)``); gradients flow back in the source dtype."""

    name = "cast"
    kind = "elementwise"
    promote = "none"

    def forward(a, dtype):
        return a.astype(dtype.numpy_dtype)

    def backward(ctx, grad):
        return grad


def cast(input: Tensor, dtype) -> Tensor:
    """A copy of ``input`` in ``dtype``.

    >>> ember.ops.elementwise.cast(ember.tensor([1.7]), ember.int64)
    tensor([1])
    """
    return Cast(input, dtype=_dt.to_dtype(dtype))


# ------------------------------------------------------------------------------------------ arithmetic
@register_op
class Add:
    name = "add"
    kind = "elementwise"
    ufunc = np.add

    def forward(a, b):
        return a + b

    def backward(ctx, grad):
        return grad, grad


@register_op
class Sub:
    name = "sub"
    kind = "elementwise"
    ufunc = np.subtract
    allowed = {1, 2}

    def forward(a, b):
        return a - b

    def backward(ctx, grad):
        return grad, -grad


@register_op
class Mul:
    name = "mul"
    kind = "elementwise"
    save = ("inputs",)

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
        need_a, need_b = ctx.next_edges[0] is not None, ctx.next_edges[1] is not None
        return (grad * b if need_a else None), (grad * a if need_b else None)


@register_op
class Div:
    name = "div"
    kind = "elementwise"
    promote = "float"
    ufunc = np.true_divide
    save = ("inputs",)

    def forward(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.true_divide(a, b)

    def backward(ctx, grad):
        a, b = ctx.inputs
        need_a, need_b = ctx.next_edges[0] is not None, ctx.next_edges[1] is not None
        grad_a = grad / b if need_a else None
        grad_b = -grad * a / (b * b) if need_b else None
        return grad_a, grad_b


@register_op
class Neg:
    name = "neg"
    kind = "elementwise"
    ufunc = np.negative
    allowed = {1, 2}

    def forward(a):
        return np.negative(a)

    def backward(ctx, grad):
        return -grad


@register_op
class Exp:
    name = "exp"
    kind = "elementwise"
    promote = "float"
    save = ("output",)
    ufunc = np.exp

    def forward(a):
        with np.errstate(over="ignore"):
            return np.exp(a)

    def backward(ctx, grad):
        return grad * ctx.output


@register_op
class Log:
    name = "log"
    kind = "elementwise"
    promote = "float"
    save = ("inputs",)
    ufunc = np.log

    def forward(a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    def backward(ctx, grad):
        (a,) = ctx.inputs
        return grad / a


@register_op
class Abs:
    name = "abs"
    kind = "elementwise"
    save = ("inputs",)
    ufunc = np.abs

    def forward(a):
        return np.abs(a)

    def backward(ctx, grad):
        (a,) = ctx.inputs
        return grad * sign(a)


@register_op
class Sign:
    name = "sign"
    kind = "elementwise"
    ufunc = np.sign

    def forward(a):
        if a.dtype == np.bool_:
            return a.copy()
        return np.sign(a)

    def backward(ctx, grad):
        return grad * 0


@register_op
class Pow:
    name = "pow"
    kind = "elementwise"
    save = ("inputs", "output")

    def forward(a, b):
        if a.dtype.kind in "iu" and np.any(np.asarray(b) < 0):
            raise ValueError("Integers to negative integer powers are not allowed.")
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.power(a, b)

    def inplace_forward(out, b):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            np.power(out, b, out=out, casting="unsafe")

    def backward(ctx, grad):
        a, b = ctx.inputs
        grad_a = grad_b = None
        if ctx.next_edges[0] is not None:
            if isinstance(b, Tensor):
                grad_a = grad * b * where(b == 0, 1.0, a) ** (b - 1) * (b != 0)
            elif b == 0:
                grad_a = grad * 0
            else:
                grad_a = grad * b * a ** (b - 1)
        if ctx.next_edges[1] is not None:
            out = ctx.output
            if isinstance(a, Tensor):
                safe_log = where((a == 0) & (b >= 0), 0.0, log(a))
                grad_b = grad * out * safe_log
            else:
                grad_b = grad * out * float(np.log(a)) if a > 0 else grad * out * float(np.log(a) if a != 0 else 0.0)
        return grad_a, grad_b


@register_op
class Sqrt:
    name = "sqrt"
    kind = "elementwise"
    promote = "float"
    save = ("output",)
    ufunc = np.sqrt

    def forward(a):
        with np.errstate(invalid="ignore"):
            return np.sqrt(a)

    def backward(ctx, grad):
        return grad / (2 * ctx.output)


def _check_integer_divisor(op_name, a, b):
    """Integer division by zero is an error in PyTorch (a RuntimeError), not a silent 0."""
    if a.dtype.kind in "iu" and np.any(np.asarray(b) == 0):
        from ember.errors import op_error
        raise op_error(RuntimeError, op_name, "ZeroDivisionError: integer division by zero")


@register_op
class FloorDivide:
    name = "floor_divide"
    kind = "elementwise"
    allowed = {1, 2}

    def forward(a, b):
        _check_integer_divisor("floor_divide", a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.floor_divide(a, b)


@register_op
class Remainder:
    name = "remainder"
    kind = "elementwise"
    allowed = {1, 2}
    save = ("inputs",)

    def forward(a, b):
        _check_integer_divisor("remainder", a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.remainder(a, b)

    def backward(ctx, grad):
        a, b = ctx.inputs
        grad_b = None
        if ctx.next_edges[1] is not None:
            grad_b = -grad * floor_divide(a, b)
        return grad, grad_b


# ------------------------------------------------------------------------------------------ comparisons
def _comparison(op_name, fn):
    cls = type(op_name.title(), (), {"name": op_name, "kind": "elementwise", "promote": "standard",
                                     "forward": staticmethod(fn)})
    return register_op(cls)


Eq = _comparison("eq", np.equal)
Ne = _comparison("ne", np.not_equal)
Lt = _comparison("lt", np.less)
Le = _comparison("le", np.less_equal)
Gt = _comparison("gt", np.greater)
Ge = _comparison("ge", np.greater_equal)


# ------------------------------------------------------------------------------------------ bitwise/logic
def _integer_op(op_name, fn, ufunc=None):
    cls = type(op_name.title(), (), {"name": op_name, "kind": "elementwise", "allowed": {0, 1},
                                     "forward": staticmethod(fn), "ufunc": ufunc})
    return register_op(cls)


BitwiseAnd = _integer_op("bitwise_and", np.bitwise_and, np.bitwise_and)
BitwiseOr = _integer_op("bitwise_or", np.bitwise_or, np.bitwise_or)
BitwiseXor = _integer_op("bitwise_xor", np.bitwise_xor, np.bitwise_xor)
BitwiseNot = _integer_op("bitwise_not", np.invert, np.invert)
BitwiseLeftShift = _integer_op("bitwise_left_shift", np.left_shift)
BitwiseRightShift = _integer_op("bitwise_right_shift", np.right_shift)


def _logical_op(op_name, fn):
    cls = type(op_name.title(), (), {"name": op_name, "kind": "elementwise", "promote": "none",
                                     "forward": staticmethod(lambda *arrays: fn(*arrays))})
    return register_op(cls)


LogicalAnd = _logical_op("logical_and", np.logical_and)
LogicalOr = _logical_op("logical_or", np.logical_or)
LogicalXor = _logical_op("logical_xor", np.logical_xor)
LogicalNot = _logical_op("logical_not", np.logical_not)


@register_op
class Where:
    name = "where"
    kind = "elementwise"
    save = ("inputs",)
    promote_args = (1, 2)

    def forward(condition, a, b):
        return np.where(condition, a, b)

    def backward(ctx, grad):
        condition, a, b = ctx.inputs
        zero = grad * 0
        return None, where(condition, grad, zero), where(condition, zero, grad)


# ------------------------------------------------------------------------------------------ public API
def add(input, other, *, alpha=1, out=None):
    """``input + alpha * other`` with broadcasting and type promotion.

    >>> ember.add(ember.tensor([1.0, 2.0]), ember.tensor([10.0, 20.0]), alpha=2)
    tensor([21., 42.])
    """
    if alpha != 1:
        other = Mul(other, alpha)
    return _maybe_out(Add(input, other), out)


def sub(input, other, *, alpha=1, out=None):
    """``input - alpha * other``.

    >>> ember.sub(ember.tensor([5, 6]), 1)
    tensor([4, 5])
    """
    _check_not_bool("sub", input, other)
    if alpha != 1:
        other = Mul(other, alpha)
    return _maybe_out(Sub(input, other), out)


def mul(input, other, *, out=None):
    """``input * other``.

    >>> ember.mul(ember.tensor([1, 2]), 3)
    tensor([3, 6])
    """
    return _maybe_out(Mul(input, other), out)


def div(input, other, *, rounding_mode=None, out=None):
    """True division; ``rounding_mode`` ``"trunc"`` or ``"floor"`` rounds the quotient.

    >>> ember.div(ember.tensor([7, -7]), 2, rounding_mode="floor")
    tensor([ 3, -4])
    """
    if rounding_mode is None:
        return _maybe_out(Div(input, other), out)
    if rounding_mode == "floor":
        return _maybe_out(FloorDivide(input, other), out)
    if rounding_mode == "trunc":
        from ember.ops import elementwise_math
        quotient = Div(input, other)
        result = elementwise_math.trunc(quotient)
        dt = _dt.result_type_of((input, other))
        return _maybe_out(result if dt.is_floating_point else cast(result, dt), out)
    from ember.errors import op_error
    raise op_error(RuntimeError, "div", f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                   f"{rounding_mode!r}")


def neg(input, *, out=None):
    """``-input``.

    >>> ember.neg(ember.tensor([1, -2]))
    tensor([-1,  2])
    """
    if isinstance(input, Tensor) and input._dtype is _dt.bool:
        from ember.errors import op_error
        raise op_error(RuntimeError, "neg", "Negation, the `-` operator, on a bool tensor is not supported. If you "
                       "are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    return _maybe_out(Neg(input), out)


def exp(input, *, out=None):
    """``e ** input``.

    >>> ember.exp(ember.tensor([0.0]))
    tensor([1.])
    """
    return _maybe_out(Exp(input), out)


def log(input, *, out=None):
    """Natural logarithm.

    >>> ember.log(ember.tensor([1.0]))
    tensor([0.])
    """
    return _maybe_out(Log(input), out)


def abs(input, *, out=None):
    """Absolute value.

    >>> ember.abs(ember.tensor([-1.5]))
    tensor([1.5000])
    """
    return _maybe_out(Abs(input), out)


def sign(input, *, out=None):
    """-1, 0 or 1 by the sign of each element.

    >>> ember.sign(ember.tensor([-2.0, 0.0, 3.0]))
    tensor([-1.,  0.,  1.])
    """
    return _maybe_out(Sign(input), out)


def pow(input, exponent, *, out=None):
    """``input ** exponent``; either may be a scalar.

    >>> ember.pow(ember.tensor([2.0, 3.0]), 2)
    tensor([4., 9.])
    """
    return _maybe_out(Pow(input, exponent), out)


def sqrt(input, *, out=None):
    """Square root.

    >>> ember.sqrt(ember.tensor([4.0]))
    tensor([2.])
    """
    return _maybe_out(Sqrt(input), out)


def square(input, *, out=None):
    """``input * input`` (bool tensors give int64, as in PyTorch).

    >>> ember.square(ember.tensor([3]))
    tensor([9])
    """
    if isinstance(input, Tensor) and input._dtype is _dt.bool:
        input = cast(input, _dt.int64)
    return _maybe_out(Mul(input, input), out)


def floor_divide(input, other, *, out=None):
    """Division rounded down (Python's ``//``).

    >>> ember.floor_divide(ember.tensor([7, -7]), 2)
    tensor([ 3, -4])
    """
    return _maybe_out(FloorDivide(input, other), out)


def remainder(input, other, *, out=None):
    """Python's modulus: the result has the sign of the divisor.

    >>> ember.remainder(ember.tensor([-3, 3]), 2)
    tensor([1, 1])
    """
    return _maybe_out(Remainder(input, other), out)


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other``; ``where(cond)`` is ``nonzero``.

    >>> ember.where(ember.tensor([True, False]), ember.tensor([1.0, 2.0]), 0.0)
    tensor([1., 0.])
    """
    if input is None and other is None:
        from ember.ops.index import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        from ember.ops.creation import tensor
        condition = tensor(condition)
    if condition._dtype is not _dt.bool:
        if condition._dtype is _dt.uint8:
            condition = cast(condition, _dt.bool)
        else:
            from ember.errors import op_error
            raise op_error(RuntimeError, "where", f"where expected condition to be a boolean tensor, but got a "
                           f"tensor with dtype {condition._dtype.name.title()}")
    return _maybe_out(Where(condition, input, other), out)


def _comparison_fn(op, doc_name):
    def compare(input, other, *, out=None):
        return _maybe_out(op(input, other), out)
    compare.__name__ = doc_name
    compare.__doc__ = f"Elementwise ``{doc_name}`` comparison, returning a bool tensor.\n\n" \
                      f"    >>> ember.{doc_name}(ember.tensor([1, 2]), 2).dtype\n    ember.bool\n"
    return compare


eq = _comparison_fn(Eq, "eq")
ne = not_equal = _comparison_fn(Ne, "ne")
lt = less = _comparison_fn(Lt, "lt")
le = less_equal = _comparison_fn(Le, "le")
gt = greater = _comparison_fn(Gt, "gt")
ge = greater_equal = _comparison_fn(Ge, "ge")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (infinities equal only to themselves), a bool tensor.

    >>> ember.isclose(ember.tensor([1.0, 2.0, float("nan")]), ember.tensor([1.0 + 1e-9, 2.1, float("nan")]))
    tensor([ True, False, False])
    """
    from ember.ops.creation import as_tensor
    from ember.tensor import _make
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
    return _make(np.asarray(result))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see :func:`isclose`).

    >>> ember.allclose(ember.tensor([1.0, 2.0]), ember.tensor([1.0, 2.0 + 1e-7]))
    True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other) -> bool:
    """Whether both tensors have the same shape and elements (after type promotion, as torch).

    >>> ember.equal(ember.tensor([1, 2]), ember.tensor([1.0, 2.0])), ember.equal(ember.ones(2), ember.ones(3))
    (True, False)
    """
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool(np.array_equal(input._data, other._data))


def _integer_fn(op, doc_name):
    def integer_op(input, other=None, *, out=None):
        result = op(input) if other is None and op is BitwiseNot else op(input, other)
        return _maybe_out(result, out)
    integer_op.__name__ = doc_name
    integer_op.__doc__ = f"Elementwise ``{doc_name}`` on integer or bool tensors.\n\n" \
                         f"    >>> ember.{doc_name}(ember.tensor([12]){'' if op is BitwiseNot else ', 10'}).dtype\n" \
                         f"    ember.int64\n"
    return integer_op


bitwise_and = _integer_fn(BitwiseAnd, "bitwise_and")
bitwise_or = _integer_fn(BitwiseOr, "bitwise_or")
bitwise_xor = _integer_fn(BitwiseXor, "bitwise_xor")
bitwise_not = _integer_fn(BitwiseNot, "bitwise_not")
bitwise_left_shift = _integer_fn(BitwiseLeftShift, "bitwise_left_shift")
bitwise_right_shift = _integer_fn(BitwiseRightShift, "bitwise_right_shift")


def _logical_fn(op, doc_name, unary=False):
    def logical(input, other=None, *, out=None):
        from ember.ops.creation import as_tensor
        result = op(as_tensor(input)) if unary else op(as_tensor(input), as_tensor(other))
        return _maybe_out(result, out)
    logical.__name__ = doc_name
    logical.__doc__ = f"Elementwise ``{doc_name}`` treating nonzero as True; returns bool.\n\n" \
                      f"    >>> ember.{doc_name}(ember.tensor([0, 3]){'' if unary else ', ember.tensor([1, 1])'})" \
                      f".dtype\n    ember.bool\n"
    return logical


logical_and = _logical_fn(LogicalAnd, "logical_and")
logical_or = _logical_fn(LogicalOr, "logical_or")
logical_xor = _logical_fn(LogicalXor, "logical_xor")
logical_not = _logical_fn(LogicalNot, "logical_not", unary=True)

subtract = sub
multiply = mul
divide = true_divide = div
negative = neg
absolute = abs


def _check_not_bool(op_name, a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._dtype is _dt.bool and b._dtype is _dt.bool:
        from ember.errors import op_error
        raise op_error(RuntimeError, op_name, "Subtraction, the `-` operator, with two bool tensors is not "
                       "supported. Use the `^` or `logical_xor()` operator instead.")


def _maybe_out(result, out):
    """Support PyTorch's ``out=`` argument: copy into ``out`` (resized if empty) and return it."""
    if out is None:
        return result
    from ember.ops.registry import check_inplace_allowed
    check_inplace_allowed(out, "out=")
    if out._data.shape != result._data.shape:
        if out._data.size != 0 and out._data.shape != ():
            from ember.errors import op_error
            raise op_error(RuntimeError, "out=", f"out has shape {tuple(out._data.shape)} but the result has shape "
                           f"{tuple(result._data.shape)}")
        out._data = np.empty(result._data.shape, dtype=out._data.dtype)
    np.copyto(out._data, result._data, casting="unsafe")
    out._version.value += 1
    return out


# ------------------------------------------------------------------------------------------ in-place
def _inplace(op, name):
    def inplace(self, *args, **kwargs):
        return apply_inplace(op, self, *args, **kwargs)
    inplace.__name__ = name
    return inplace


def add_(self, other, *, alpha=1):
    """In-place ``self += alpha * other``."""
    if alpha != 1:
        other = Mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return apply_inplace(Add, self, other)


def sub_(self, other, *, alpha=1):
    """In-place ``self -= alpha * other``."""
    if alpha != 1:
        other = Mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return apply_inplace(Sub, self, other)


def div_(self, other, *, rounding_mode=None):
    """In-place division."""
    if rounding_mode is not None:
        from ember.ops.registry import write_result_into
        write_result_into(self, div(self, other, rounding_mode=rounding_mode), "div_")
        return self
    return apply_inplace(Div, self, other)


mul_ = _inplace(Mul, "mul_")
neg_ = _inplace(Neg, "neg_")
exp_ = _inplace(Exp, "exp_")
log_ = _inplace(Log, "log_")
abs_ = _inplace(Abs, "abs_")
sign_ = _inplace(Sign, "sign_")
pow_ = _inplace(Pow, "pow_")
sqrt_ = _inplace(Sqrt, "sqrt_")
floor_divide_ = _inplace(FloorDivide, "floor_divide_")
remainder_ = _inplace(Remainder, "remainder_")
bitwise_and_ = _inplace(BitwiseAnd, "bitwise_and_")
bitwise_or_ = _inplace(BitwiseOr, "bitwise_or_")
bitwise_xor_ = _inplace(BitwiseXor, "bitwise_xor_")
bitwise_not_ = _inplace(BitwiseNot, "bitwise_not_")
eq_ = _inplace(Eq, "eq_")
ne_ = _inplace(Ne, "ne_")
lt_ = _inplace(Lt, "lt_")
le_ = _inplace(Le, "le_")
gt_ = _inplace(Gt, "gt_")
ge_ = _inplace(Ge, "ge_")


def square_(self):
    """In-place ``self * self``."""
    return apply_inplace(Mul, self, self)


TENSOR_METHODS = {
    name: globals()[name] for name in [
        "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg", "negative", "exp",
        "log", "abs", "absolute", "sign", "pow", "sqrt", "square", "floor_divide", "remainder", "where",
        "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
        "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
        "logical_and", "logical_or", "logical_xor", "logical_not", "isclose", "allclose", "equal",
        "add_", "sub_", "mul_", "div_", "neg_", "exp_", "log_", "abs_", "sign_", "pow_", "sqrt_", "square_",
        "floor_divide_", "remainder_", "bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_not_",
        "eq_", "ne_", "lt_", "le_", "gt_", "ge_",
    ]
}
negative_ = neg_
TENSOR_METHODS.update(subtract_=sub_, multiply_=mul_, divide_=div_, true_divide_=div_, negative_=neg_,
                      absolute_=abs_)
__all__ += ["sign", "where", "neg_", "negative_", "exp_", "log_", "abs_", "sqrt_", "square_"]
# Tensor's augmented assignments (``x += y`` ...) call these through ``ember.ops``, which holds only
# public names; PyTorch has no top-level ``torch.add_``, but exporting them is harmless.
__all__ += ["add_", "sub_", "mul_", "div_", "floor_divide_", "remainder_", "pow_", "bitwise_and_", "bitwise_or_",
            "bitwise_xor_"]
