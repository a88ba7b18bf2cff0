"""Mathematical functions, elementwise: exponentials and logarithms, powers and roots, trigonometric and
hyperbolic functions, special functions, rounding and sign, clamping, min/max, NaN handling, interpolation.

Operators (``+``, ``*``, comparisons, ``where`` ...) are in ``arithmetic.py``; every function is here (the rule
is in that file's docstring). Each op is registered once (kind ``elementwise``) with its function, method,
in-place and ``out=`` forms. Float-only functions promote integer and bool inputs to the default float dtype,
as PyTorch does. Half-precision inputs of compound formulas are computed in float32 and rounded once
(``dtypes.opmath``, PyTorch's opmath type); special functions (erf, erfinv, lgamma, digamma, polygamma) are
evaluated in float64 with rational/asymptotic approximations accurate to a few ulps of float64, then rounded
to the input dtype. NumPy has no erf and SciPy is not a dependency.

>>> import ember
>>> ember.sigmoid(ember.tensor([0.0, 2.0]))
tensor([0.5000, 0.8808])
>>> x = ember.tensor([0.5], requires_grad=True)
>>> ember.erf(x).backward(); x.grad
tensor([0.8788])
"""

from __future__ import annotations

import math

import numpy as np

from ember import dtypes as _dt
from ember.dtypes import HALF_NUMPY_DTYPES as _HALF
from ember.dtypes import opmath as _opmath
from ember.dtypes import rounded_like as _back
from ember.errors import op_error
from ember.ops.arguments import require_tensor
from ember.ops.arithmetic import Cast, Mul, Pow, Where, _broadcasts_into, _need
from ember.ops.arithmetic import opmath_tensor as _up
from ember.ops.registry import (_Scratch, _torch_type_name, apply_inplace, check_inplace_allowed, register_function,
                                register_op, write_out, write_result_into)
from ember.tensor import Tensor, from_array

_F64 = np.dtype(np.float64)
_SCRATCH = _Scratch()


def _in64(a):
    return a.astype(np.float64) if a.dtype != _F64 else a


def _doc(summary, name, example, result):
    """An op's docstring: ``summary`` and an example calling ``ember.name(ember.tensor(example))``."""
    return f"{summary}\n\n    >>> ember.{name}(ember.tensor({example}))\n    {result}\n"


# ============================================================================ special-function kernels
# erf/erfc: the FreeBSD/SunPro s_erf.c rational approximations (public domain, error < 1 ulp in float64).
_ERX = 8.45062911510467529297e-01
_PP = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
       -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_QQ = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
       1.32494738004321644526e-04, -3.96022827877536812320e-06)
_PA = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
       3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
       -2.16637559486879084300e-03)
_QA = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
       1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_RA = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e01,
       -6.23753324503260060396e01, -1.62396669462573470355e02, -1.84605092906711035994e02,
       -8.12874355063065934246e01, -9.81432934416914548592e00)
_SA = (1.0, 1.96512716674392571292e01, 1.37657754143519042600e02, 4.34565877475229228821e02,
       6.45387271733267880336e02, 4.29008140027567833386e02, 1.08635005541779435134e02,
       6.57024977031928170135e00, -6.04244152148580987438e-02)
_RB = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e01,
       -1.60636384855821916062e02, -6.37566443368389627722e02, -1.02509513161107724954e03,
       -4.83519191608651397019e02)
_SB = (1.0, 3.03380607434824582924e01, 3.25792512996573918826e02, 1.53672958608443695994e03,
       3.19985821950859553908e03, 2.55305040643316442583e03, 4.74528541206955367215e02,
       -2.24409524465858183362e01)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _poly(coeffs, z):
    """sum(coeffs[i] * z**i) by Horner's rule (coefficients lowest order first)."""
    acc = np.full_like(z, coeffs[-1])
    for c in coeffs[-2::-1]:
        acc *= z
        acc += c
    return acc


def _erf_kernel(x, complement):
    """erf(x) (or erfc(x) when ``complement``) of a float64 array."""
    out = np.array(x, dtype=np.float64, copy=True)  # NaN passes through untouched
    ax = np.abs(x)
    small = ax < 0.84375
    if small.any():
        v = x[small]
        z = v * v
        y = _poly(_PP, z) / _poly(_QQ, z)
        if complement:
            r = v * y
            out[small] = np.where(np.abs(v) < 0.25, 1.0 - (v + r), 0.5 - (r + (v - 0.5)))
        else:
            out[small] = v + v * y
    middle = (ax >= 0.84375) & (ax < 1.25)
    if middle.any():
        v = x[middle]
        s = np.abs(v) - 1.0
        pq = _poly(_PA, s) / _poly(_QA, s)
        if complement:
            out[middle] = np.where(v > 0, (1.0 - _ERX) - pq, 1.0 + (_ERX + pq))
        else:
            out[middle] = np.copysign(_ERX + pq, v)
    large = ax >= 1.25
    if large.any():
        v = x[large]
        av = np.minimum(np.abs(v), 28.0)  # erfc(28) underflows to 0 in float64
        s = 1.0 / (av * av)
        near = av < 1 / 0.35
        ratio = np.empty_like(av)
        ratio[near] = _poly(_RA, s[near]) / _poly(_SA, s[near])
        far = ~near
        ratio[far] = _poly(_RB, s[far]) / _poly(_SB, s[far])
        if complement:
            # exp(-x*x) split in two so the rounding error of x*x does not reach the tiny tail.
            z = (av.view(np.uint64) & np.uint64(0xFFFFFFFF00000000)).view(np.float64)
            tail = np.exp(-z * z - 0.5625) * np.exp((z - av) * (z + av) + ratio) / av  # erfc(|x|)
            out[large] = np.where(v > 0, tail, 2.0 - tail)
        else:
            # For erf the tail is below 0.08, so one exp's rounding of x*x is far below erf's ulp.
            tail = np.exp(ratio - av * av - 0.5625) / av
            out[large] = np.copysign(1.0 - tail, v)
    return out


# erfinv: Giles' approximation ("Approximating the erfinv function", 2010) refined by Halley steps.
_ERFINV_CENTRAL = (1.50140941, 0.246640727, -0.00417768164, -0.00125372503, 0.00021858087, -4.39150654e-06,
                   -3.5233877e-06, 3.43273939e-07, 2.81022636e-08)
_ERFINV_TAIL = (2.83297682, 1.00167406, 0.00943887047, -0.0076224613, 0.00573950773, -0.00367342844,
                0.00134934322, 0.000100950558, -0.000200214257)


def _erfinv_kernel(y):
    y = np.asarray(y, dtype=np.float64)
    w = -np.log((1.0 - y) * (1.0 + y))
    central = w < 5.0
    x = np.where(central, _poly(_ERFINV_CENTRAL, w - 2.5), _poly(_ERFINV_TAIL, np.sqrt(w) - 3.0)) * y
    ay = np.abs(y)
    tail = ay > 0.5
    # Central part: Halley steps on erf(x) = y. Tails: Newton steps on log(erfc(|x|)) = log(1 - |y|), which
    # is nearly quadratic in x, so they converge from Giles' float32-grade start even at 1 - |y| ~ 1e-16;
    # 1 - |y| is exact there, so no digits cancel.
    central_y = np.where(tail, 0.0, y)
    xc = np.where(tail, 0.0, x)
    for _ in range(2):
        step = (_erf_kernel(xc, False) - central_y) / (_TWO_OVER_SQRT_PI * np.exp(-xc * xc))
        xc = xc - step / (1.0 + xc * step)
    if tail.any():
        q = 1.0 - ay[tail]
        xt = np.abs(x[tail])
        for _ in range(4):
            erfc_x = _erf_kernel(xt, True)
            slope = -_TWO_OVER_SQRT_PI * np.exp(-xt * xt) / erfc_x
            xt = xt - (np.log(erfc_x) - np.log(q)) / slope
        xc[tail] = np.copysign(xt, y[tail])
    x = xc
    x = np.where(ay == 1.0, np.copysign(np.inf, y), x)
    return np.where(ay > 1.0, np.nan, x)


def _sinpi(x):
    """sin(pi * x) with the argument reduced exactly first."""
    r = x - 2.0 * np.round(0.5 * x)
    return np.sin(np.pi * r)


def _cotpi(x):
    """cot(pi * x), periodic with period 1."""
    r = x - np.round(x)
    return 1.0 / np.tan(np.pi * r)


_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_SHIFT = 10.0  # recurrences move the argument to >= this, where the asymptotic series are exact in float64


def _lgamma_kernel(x):
    x = np.asarray(x, dtype=np.float64)
    reflect = x < 0.5
    z = np.where(reflect, 1.0 - x, x)
    product = np.ones_like(z)
    for _ in range(int(_SHIFT) + 1):
        low = z < _SHIFT
        if not low.any():
            break
        product = np.where(low, product * z, product)
        z = np.where(low, z + 1.0, z)
    inv = 1.0 / z
    inv2 = inv * inv
    series = inv * (1 / 12 + inv2 * (-1 / 360 + inv2 * (1 / 1260 + inv2 * (-1 / 1680 + inv2 * (
        1 / 1188 + inv2 * (-691 / 360360 + inv2 / 156))))))
    result = (z - 0.5) * np.log(z) - z + _LOG_SQRT_2PI + series - np.log(product)
    if reflect.any():
        result = np.where(reflect, np.log(np.pi / np.abs(_sinpi(x))) - result, result)
        poles = reflect & (x == np.floor(x))
        result = np.where(poles | np.isinf(x), np.inf, result)
    return result


def _digamma_kernel(x):
    x = np.asarray(x, dtype=np.float64)
    reflect = x < 0.5
    z = np.where(reflect, 1.0 - x, x)
    shifted = np.zeros_like(z)
    for _ in range(int(_SHIFT) + 1):
        low = z < _SHIFT
        if not low.any():
            break
        shifted -= np.where(low, 1.0 / z, 0.0)
        z = np.where(low, z + 1.0, z)
    inv2 = 1.0 / (z * z)
    series = inv2 * (1 / 12 + inv2 * (-1 / 120 + inv2 * (1 / 252 + inv2 * (-1 / 240 + inv2 * (
        1 / 132 + inv2 * (-691 / 32760 + inv2 / 12))))))
    result = np.log(z) - 0.5 / z - series + shifted
    if reflect.any():
        result = np.where(reflect, result - np.pi * _cotpi(x), result)
        result = np.where(reflect & (x == np.floor(x)), np.nan, result)
        result = np.where(x == 0, np.copysign(np.inf, -x), result)
        result = np.where(x == -np.inf, np.nan, result)
    return result


_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798)


def _cot_derivative_poly(n):
    """Coefficients of P_n with d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x))."""
    from numpy.polynomial import polynomial as P
    p = np.array([0.0, 1.0])
    for _ in range(n):
        p = -P.polymul([1.0, 0.0, 1.0], P.polyder(p))
    return p


def _polygamma_kernel(n, x):
    """The n-th derivative of digamma (n >= 1) of a float64 array."""
    x = np.asarray(x, dtype=np.float64)
    reflect = x < 0.5
    z = np.where(reflect, 1.0 - x, x)
    factorial = math.factorial(n)
    sign_ = 1.0 if n % 2 == 1 else -1.0  # (-1)**(n+1)
    threshold = _SHIFT + 2 * n
    shifted = np.zeros_like(z)
    for _ in range(int(threshold) + 1):
        low = z < threshold
        if not low.any():
            break
        shifted += np.where(low, z ** -(n + 1.0), 0.0)
        z = np.where(low, z + 1.0, z)
    inv = 1.0 / z
    inv2 = inv * inv
    series = math.factorial(n - 1) * inv ** n + factorial * 0.5 * inv ** (n + 1)
    power = inv ** (n + 2)
    for k, b in enumerate(_BERNOULLI, start=1):
        series = series + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) * power
        power = power * inv2
    result = sign_ * (series + factorial * shifted)
    if reflect.any():
        cot = _cotpi(x)
        cot_term = np.pi ** (n + 1) * np.polynomial.polynomial.polyval(cot, _cot_derivative_poly(n))
        reflected = (-1.0) ** n * result - cot_term
        result = np.where(reflect, reflected, result)
        poles = reflect & (x == np.floor(x))
        result = np.where(poles, np.inf if n % 2 == 1 else np.nan, result)
    return result



# ============================================================================ one-operand functions
def _unary(op_name, compute, grad=None, save="inputs", ufunc=None, promote="float", allowed=None, doc=None,
           names=None, public=True):
    """Register a one-operand function: ``compute(array)`` in NumPy, ``grad(grad, saved)`` with ember ops, with
    function, method, in-place and ``out=`` forms documented by ``doc`` (unless not ``public``)."""
    def forward(a):
        with np.errstate(all="ignore"):
            return compute(a)

    def inplace_forward(out):
        if out.dtype.kind in "iub":  # only rounding ops get here with integers, and they are the identity
            return
        with np.errstate(all="ignore"):
            if ufunc is not None:
                ufunc(out, out=out)
            else:
                np.copyto(out, compute(out), casting="unsafe")

    attrs = {"name": op_name, "kind": "elementwise", "promote": promote, "forward": forward,
             "inplace_forward": inplace_forward, "ufunc": ufunc, "save": (), "__doc__": doc, "__module__": __name__}
    if public:
        attrs.update(names=names or (op_name,), method=True, inplace=True)
    if allowed is not None:
        attrs["allowed"] = allowed
    if grad is not None:
        attrs["save"] = (save,)
        if save == "output":
            def backward(ctx, g):
                return grad(_up(g), _up(ctx.output))
        else:
            def backward(ctx, g):
                return grad(_up(g), _up(ctx.inputs[0]))
        attrs["backward"] = backward
    return register_op(type(op_name.title().replace("_", ""), (), attrs))


def _via_float32(fn):
    """Compute ``fn`` in float32 for half inputs and round the result once."""
    def compute(a):
        x = _opmath(a)
        return _back(fn(x), a)
    return compute


def _via_float64(fn):
    """Evaluate a float64 kernel (kernels index with masks, so 0-d inputs go through as 1-d)."""
    def compute(a):
        return _back(np.asarray(fn(np.atleast_1d(_in64(a)))).reshape(np.shape(a)), a)
    return compute


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


@register_op
class Exp:
    """``e ** input``.

    >>> ember.exp(ember.tensor([0.0]))
    tensor([1.])
    """

    name = "exp"
    kind = "elementwise"
    promote = "float"
    save = ("output",)
    ufunc = np.exp
    method = True
    inplace = True

    def forward(a):
        with np.errstate(over="ignore"):
            return np.exp(a)

    def backward(ctx, grad):
        return grad * ctx.output


@register_op
class Log:
    """Natural logarithm.

    >>> ember.log(ember.tensor([1.0]))
    tensor([0.])
    """

    name = "log"
    kind = "elementwise"
    promote = "float"
    save = ("inputs",)
    ufunc = np.log
    method = True
    inplace = True

    def forward(a):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    def backward(ctx, grad):
        (a,) = ctx.inputs
        return grad / a


@register_op
class Sqrt:
    """Square root.

    >>> ember.sqrt(ember.tensor([4.0]))
    tensor([2.])
    """

    name = "sqrt"
    kind = "elementwise"
    promote = "float"
    save = ("output",)
    ufunc = np.sqrt
    method = True
    inplace = True

    def forward(a):
        with np.errstate(invalid="ignore"):
            return np.sqrt(a)

    def backward(ctx, grad):
        return grad / (2 * ctx.output)


@register_function(method=True, out=True)
def square(input):
    """``input * input`` (bool tensors give int64, as in PyTorch).

    >>> ember.square(ember.tensor([3]))
    tensor([9])
    """
    if isinstance(input, Tensor) and input._dtype is _dt.bool:
        input = Cast(input, dtype=_dt.int64)
    return Mul(input, input)


@register_function(method=True)
def square_(self):
    """In-place ``self * self``.

    >>> ember.tensor([3.0]).square_()
    tensor([9.])
    """
    return apply_inplace(Mul, self, self)


@register_op
class Sign:
    """-1, 0 or 1 by the sign of each element.

    >>> ember.sign(ember.tensor([-2.0, 0.0, 3.0]))
    tensor([-1.,  0.,  1.])
    """

    name = "sign"
    kind = "elementwise"
    ufunc = np.sign
    method = True
    inplace = True

    def forward(a):
        if a.dtype == np.bool_:
            return a.copy()
        return np.sign(a)

    def backward(ctx, grad):
        return grad * 0


Reciprocal = _unary("reciprocal", np.reciprocal, lambda g, out: -g * out * out, save="output", ufunc=np.reciprocal,
                    doc=_doc("``1 / input``; integers promote to float.", "reciprocal", "[2.0, -4.0]",
                             "tensor([ 0.5000, -0.2500])"))
Exp2 = _unary("exp2", np.exp2, lambda g, out: g * out * _LN2, save="output", ufunc=np.exp2,
              doc=_doc("``2 ** input``.", "exp2", "[0.0, 3.0]", "tensor([1., 8.])"))
Expm1 = _unary("expm1", np.expm1, lambda g, out: g * (out + 1), save="output", ufunc=np.expm1,
               doc=_doc("``exp(input) - 1``, accurate for small inputs.", "expm1", "[0.0, 1e-10]",
                        "tensor([0.0000e+00, 1.0000e-10])"))
Log2 = _unary("log2", np.log2, lambda g, a: g / (a * _LN2), ufunc=np.log2,
              doc=_doc("Base-2 logarithm.", "log2", "[8.0]", "tensor([3.])"))
# float64 then one rounding: NumPy's float32 log10 differs by an ulp between CPUs (AVX-512 gives log10(100) > 2)
Log10 = _unary("log10", _via_float64(np.log10), lambda g, a: g / (a * _LN10),
               doc=_doc("Base-10 logarithm.", "log10", "[100.0]", "tensor([2.])"))
Log1p = _unary("log1p", np.log1p, lambda g, a: g / (a + 1), ufunc=np.log1p,
               doc=_doc("``log(1 + input)``, accurate for small inputs.", "log1p", "[0.0]", "tensor([0.])"))
Rsqrt = _unary("rsqrt", _via_float32(lambda x: np.reciprocal(np.sqrt(x))),
               lambda g, out: -0.5 * g * out * out * out, save="output",
               doc=_doc("``1 / sqrt(input)``.", "rsqrt", "[4.0]", "tensor([0.5000])"))
Sin = _unary("sin", np.sin, lambda g, a: g * Cos(a), ufunc=np.sin,
             doc=_doc("Sine (radians).", "sin", "[0.0]", "tensor([0.])"))
Cos = _unary("cos", np.cos, lambda g, a: -g * Sin(a), ufunc=np.cos,
             doc=_doc("Cosine (radians).", "cos", "[0.0]", "tensor([1.])"))
Tan = _unary("tan", np.tan, lambda g, out: g * (1 + out * out), save="output", ufunc=np.tan,
             doc=_doc("Tangent (radians).", "tan", "[0.0]", "tensor([0.])"))
Asin = _unary("asin", np.arcsin, lambda g, a: g * Rsqrt(1 - a * a), ufunc=np.arcsin, names=("asin", "arcsin"),
              doc=_doc("Inverse sine; NaN outside [-1, 1].", "asin", "[1.0]", "tensor([1.5708])"))
Acos = _unary("acos", np.arccos, lambda g, a: -g * Rsqrt(1 - a * a), ufunc=np.arccos, names=("acos", "arccos"),
              doc=_doc("Inverse cosine; NaN outside [-1, 1].", "acos", "[1.0]", "tensor([0.])"))
Atan = _unary("atan", np.arctan, lambda g, a: g / (1 + a * a), ufunc=np.arctan, names=("atan", "arctan"),
              doc=_doc("Inverse tangent.", "atan", "[1.0]", "tensor([0.7854])"))
Sinh = _unary("sinh", np.sinh, lambda g, a: g * Cosh(a), ufunc=np.sinh,
              doc=_doc("Hyperbolic sine.", "sinh", "[0.0]", "tensor([0.])"))
Cosh = _unary("cosh", np.cosh, lambda g, a: g * Sinh(a), ufunc=np.cosh,
              doc=_doc("Hyperbolic cosine.", "cosh", "[0.0]", "tensor([1.])"))
Asinh = _unary("asinh", np.arcsinh, lambda g, a: g * Rsqrt(a * a + 1), ufunc=np.arcsinh, names=("asinh", "arcsinh"),
               doc=_doc("Inverse hyperbolic sine.", "asinh", "[0.0]", "tensor([0.])"))
Acosh = _unary("acosh", np.arccosh, lambda g, a: g * Rsqrt(a * a - 1), ufunc=np.arccosh, names=("acosh", "arccosh"),
               doc=_doc("Inverse hyperbolic cosine; NaN below 1.", "acosh", "[1.0]", "tensor([0.])"))
Atanh = _unary("atanh", np.arctanh, lambda g, a: g / (1 - a * a), ufunc=np.arctanh, names=("atanh", "arctanh"),
               doc=_doc("Inverse hyperbolic tangent; infinite at +-1.", "atanh", "[0.5]", "tensor([0.5493])"))
Erf = _unary("erf", _via_float64(lambda x: _erf_kernel(x, False)),
             lambda g, a: g * _TWO_OVER_SQRT_PI * Exp(-a * a),
             doc=_doc("The error function.", "erf", "[0.0, 1.0]", "tensor([0.0000, 0.8427])"))
Erfc = _unary("erfc", _via_float64(lambda x: _erf_kernel(x, True)),
              lambda g, a: -g * _TWO_OVER_SQRT_PI * Exp(-a * a),
              doc=_doc("The complementary error function ``1 - erf(input)``, accurate in the tail.", "erfc",
                       "[0.0, 3.0]", "tensor([1.0000e+00, 2.2090e-05])"))
Erfinv = _unary("erfinv", _via_float64(_erfinv_kernel),
                lambda g, out: g * (math.sqrt(math.pi) / 2) * Exp(out * out), save="output",
                doc=_doc("The inverse error function; +-inf at +-1, NaN outside [-1, 1].", "erfinv", "[0.0, 0.5]",
                         "tensor([0.0000, 0.4769])"))
Lgamma = _unary("lgamma", _via_float64(_lgamma_kernel), lambda g, a: g * Digamma(a),
                doc=_doc("Natural log of the absolute value of the gamma function.", "lgamma", "[0.5, 3.0]",
                         "tensor([0.5724, 0.6931])"))
Digamma = _unary("digamma", _via_float64(_digamma_kernel), lambda g, a: g * Polygamma(a, n=1),
                 doc=_doc("The logarithmic derivative of the gamma function.", "digamma", "[1.0]",
                          "tensor([-0.5772])"))
Deg2rad = _unary("deg2rad", _via_float32(lambda x: x * x.dtype.type(math.pi / 180)),
                 lambda g, a: g * (math.pi / 180),
                 doc=_doc("Degrees to radians.", "deg2rad", "[180.0]", "tensor([3.1416])"))
Rad2deg = _unary("rad2deg", _via_float32(lambda x: x * x.dtype.type(180 / math.pi)),
                 lambda g, a: g * (180 / math.pi),
                 doc=_doc("Radians to degrees.", "rad2deg", "[3.141592653589793]", "tensor([180.])"))


def _sinc_compute(x):
    product = x * x.dtype.type(math.pi)
    with np.errstate(all="ignore"):
        return np.where(x == 0, x.dtype.type(1), np.sin(product) / product)


def _sinc_grad(g, a):
    pa = a * math.pi
    d = (pa * Cos(pa) - Sin(pa)) / (pa * a)
    return g * Where(a == 0, 0.0, d)


Sinc = _unary("sinc", _via_float32(_sinc_compute), _sinc_grad,
              doc=_doc("The normalized sinc function ``sin(pi x) / (pi x)``, 1 at 0.", "sinc", "[0.0, 0.5]",
                       "tensor([1.0000, 0.6366])"))


@register_op
class Polygamma:
    """The ``n``-th derivative of the digamma function (``n = 0`` is digamma itself).

    >>> ember.polygamma(1, ember.tensor([1.0]))
    tensor([1.6449])
    """

    name = "polygamma"
    kind = "elementwise"
    promote = "float"
    save = ("inputs",)

    def function(n, input):
        if n < 0:
            raise op_error(RuntimeError, "polygamma", "polygamma(n, x) does not support negative n.")
        return Polygamma(input, n=int(n))

    def method(self, n):
        """``ember.polygamma(n, self)``.

        >>> ember.tensor([1.0]).polygamma(1)
        tensor([1.6449])
        """
        return Polygamma.function(n, self)

    def inplace(self, n):
        """In-place ``polygamma(n, self)``.

        >>> ember.tensor([1.0]).polygamma_(1)
        tensor([1.6449])
        """
        return apply_inplace(Polygamma, self, n=int(n))

    def forward(ctx, a, n):
        ctx.n = n
        with np.errstate(all="ignore"):
            return _via_float64(_digamma_kernel if n == 0 else lambda x: _polygamma_kernel(n, x))(a)

    def inplace_forward(out, n):
        np.copyto(out, Polygamma.forward(_SCRATCH, out, n), casting="unsafe")

    def backward(ctx, grad):
        (a,) = ctx.inputs
        return grad * Polygamma(a, n=ctx.n + 1)


@register_function(method=True, inplace=True)
def mvlgamma(input, p):
    """The multivariate log-gamma function of dimension ``p``.

    >>> ember.mvlgamma(ember.tensor([2.5]), 2)
    tensor([0.8570])
    """
    if p < 1:
        raise op_error(RuntimeError, "mvlgamma", "p has to be greater than or equal to 1")
    from ember.ops.creation import arange
    x = input if input._dtype.is_floating_point else input.to(_dt.get_default_dtype())
    offsets = arange(0, -p / 2, -0.5, dtype=x._dtype)[:p]
    total = Lgamma(x.unsqueeze(-1) + offsets).sum(-1)
    return total + (p * (p - 1) / 4 * math.log(math.pi))


# ---------------------------------------------------------------------------- sigmoid / tanh (hot in NN layers)
@register_op
class Sigmoid:
    """The logistic function ``1 / (1 + exp(-input))`` (backward ``grad * out * (1 - out)``).

    >>> ember.sigmoid(ember.tensor([0.0]))
    tensor([0.5000])
    """

    name = "sigmoid"
    kind = "elementwise"
    promote = "float"
    save = ("output",)
    method = True
    inplace = True

    def forward(a):
        x = _opmath(a)
        with np.errstate(over="ignore"):
            out = np.negative(x) if x.ndim else np.negative(x, out=np.empty((), x.dtype))
            np.exp(out, out=out)
            np.add(out, x.dtype.type(1), out=out)
            np.reciprocal(out, out=out)
        return _back(out, a)

    def inplace_forward(out):
        if out.dtype in _HALF:
            np.copyto(out, Sigmoid.forward(out), casting="unsafe")
            return
        with np.errstate(over="ignore"):
            np.negative(out, out=out)
            np.exp(out, out=out)
            np.add(out, out.dtype.type(1), out=out)
            np.reciprocal(out, out=out)

    def backward(ctx, grad):
        return SigmoidBackward(grad, ctx.output)


@register_op
class SigmoidBackward:
    """``grad * out * (1 - out)`` in one pass; its own backward keeps double backward exact."""

    name = "sigmoid_backward"
    kind = "elementwise"
    promote = "none"
    save = ("inputs",)

    def forward(grad, out):
        g, y = _opmath(grad), _opmath(out)
        result = np.subtract(y.dtype.type(1), y, out=np.empty(y.shape, y.dtype))
        result *= y
        return _back(np.multiply(result, g, out=result if g.shape == y.shape else None), grad)

    def backward(ctx, gg):
        grad, out = ctx.inputs
        return (SigmoidBackward(gg, out) if _need(ctx, 0) else None,
                gg * grad * (1 - 2 * out) if _need(ctx, 1) else None)


@register_op
class Tanh:
    """Hyperbolic tangent (saves its output; backward is ``grad * (1 - out**2)``).

    >>> ember.tanh(ember.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7616])
    """

    name = "tanh"
    kind = "elementwise"
    promote = "float"
    save = ("output",)
    ufunc = np.tanh
    method = True
    inplace = True

    def forward(a):
        return np.tanh(a)

    def inplace_forward(out):
        np.tanh(out, out=out)

    def backward(ctx, grad):
        return TanhBackward(grad, ctx.output)


@register_op
class TanhBackward:
    """``grad * (1 - out**2)`` in one pass."""

    name = "tanh_backward"
    kind = "elementwise"
    promote = "none"
    save = ("inputs",)

    def forward(grad, out):
        g, y = _opmath(grad), _opmath(out)
        result = np.multiply(y, y, out=np.empty(y.shape, y.dtype))
        np.subtract(y.dtype.type(1), result, out=result)
        return _back(np.multiply(result, g, out=result if g.shape == y.shape else None), grad)

    def backward(ctx, gg):
        grad, out = ctx.inputs
        return (TanhBackward(gg, out) if _need(ctx, 0) else None,
                -2 * gg * grad * out if _need(ctx, 1) else None)


@register_op
class Logit:
    """``log(p / (1 - p))``; with ``eps``, ``p`` is first clamped to ``[eps, 1 - eps]``.

    >>> ember.logit(ember.tensor([0.5, 0.75]))
    tensor([0.0000, 1.0986])
    """

    name = "logit"
    kind = "elementwise"
    promote = "float"
    save = ("inputs",)
    method = True

    def function(input, eps=None):
        return Logit(input, eps=eps)

    def inplace(self, eps=None):
        return apply_inplace(Logit, self, eps=eps)

    def forward(ctx, a, eps=None):
        ctx.eps = eps
        x = _opmath(a)
        if eps is not None:
            x = np.clip(x, x.dtype.type(eps), x.dtype.type(1 - eps))
        with np.errstate(all="ignore"):
            return _back(np.log(x / (1 - x)), a)

    def inplace_forward(out, eps=None):
        np.copyto(out, Logit.forward(_SCRATCH, out, eps), casting="unsafe")

    def backward(ctx, grad):
        (a,) = ctx.inputs
        eps = ctx.eps
        d = grad / (a * (1 - a))
        if eps is None:
            return Where((a < 0) | (a > 1), float("nan"), d)
        return Where((a < eps) | (a > 1 - eps), 0.0, d)


# ============================================================================ rounding and sign
def _keep_int(fn):
    """Rounding ops leave integer tensors unchanged (as a copy)."""
    def compute(a):
        if a.dtype.kind in "iub":
            return a.copy()
        return fn(a)
    return compute


def _zero_grad(g, a):
    return g * 0


Floor = _unary("floor", _keep_int(np.floor), _zero_grad, promote="standard", allowed={1, 2}, ufunc=np.floor,
               doc=_doc("Round down; integer tensors are returned unchanged.", "floor", "[-1.5, 1.5]",
                        "tensor([-2.,  1.])"))
Ceil = _unary("ceil", _keep_int(np.ceil), _zero_grad, promote="standard", allowed={1, 2}, ufunc=np.ceil,
              doc=_doc("Round up; integer tensors are returned unchanged.", "ceil", "[-1.5, 1.5]",
                       "tensor([-1.,  2.])"))
Trunc = _unary("trunc", _keep_int(np.trunc), _zero_grad, promote="standard", allowed={1, 2}, ufunc=np.trunc,
               names=("trunc", "fix"), doc=_doc("Round toward zero; integer tensors are returned unchanged.", "trunc",
                                                "[-1.5, 1.5]", "tensor([-1.,  1.])"))
Frac = _unary("frac", lambda a: a - np.trunc(a), lambda g, a: g, promote="standard", allowed={2},
              doc=_doc("The fractional part ``input - trunc(input)`` (sign of the input).", "frac", "[-1.25, 2.5]",
                       "tensor([-0.2500,  0.5000])"))
Sgn = _unary("sgn", lambda a: a.copy() if a.dtype == np.bool_ else np.sign(a), _zero_grad, promote="standard",
             doc=_doc("The sign of each element (``sign`` for real tensors).", "sgn", "[-3.0, 0.0, 2.0]",
                      "tensor([-1.,  0.,  1.])"))


def _check_round_decimals(input, decimals):
    if decimals != 0 and isinstance(input, Tensor) and not input._dtype.is_floating_point:
        raise op_error(RuntimeError, "round", f"\"round_cpu\" not implemented for '{_torch_type_name(input._dtype)}' "
                       "(decimals= needs a floating-point tensor)")


@register_op
class Round:
    """Round half to even, optionally to ``decimals`` decimal places (negative rounds left of the point).

    >>> ember.round(ember.tensor([0.5, 1.5, 2.567]))
    tensor([0., 2., 3.])
    >>> ember.round(ember.tensor([2.567]), decimals=2)
    tensor([2.5700])
    """

    name = "round"
    kind = "elementwise"
    allowed = {1, 2}
    method = True

    def function(input, *, decimals=0):
        _check_round_decimals(input, decimals)
        return Round(input, decimals=decimals)

    def inplace(self, *, decimals=0):
        _check_round_decimals(self, decimals)
        return apply_inplace(Round, self, decimals=decimals)

    def forward(a, decimals=0):
        if a.dtype.kind in "iu":
            return a.copy()
        if decimals == 0:
            return np.rint(a)
        x = _opmath(a)
        scale = x.dtype.type(10.0 ** abs(decimals))
        with np.errstate(all="ignore"):
            result = np.rint(x / scale) * scale if decimals < 0 else np.rint(x * scale) / scale
        return _back(result, a)

    def inplace_forward(out, decimals=0):
        if out.dtype.kind in "iu":
            return
        if decimals == 0:
            np.rint(out, out=out)
        else:
            np.copyto(out, Round.forward(out, decimals), casting="unsafe")

    def backward(ctx, grad):
        return grad * 0


@register_op
class NanToNum:
    """Replace NaN with ``nan`` and infinities with ``posinf``/``neginf`` (default: the dtype's extremes).

    >>> ember.nan_to_num(ember.tensor([float("nan"), float("inf"), 1.0]), posinf=9.0)
    tensor([0., 9., 1.])
    """

    name = "nan_to_num"
    kind = "elementwise"
    save = ("inputs",)
    method = True

    def function(input, nan=0.0, posinf=None, neginf=None):
        return NanToNum(input, nan=nan, posinf=posinf, neginf=neginf)

    def inplace(self, nan=0.0, posinf=None, neginf=None):
        return apply_inplace(NanToNum, self, nan=nan, posinf=posinf, neginf=neginf)

    def forward(a, nan=0.0, posinf=None, neginf=None):
        if a.dtype.kind in "iub":
            return a.copy()
        out = a.copy()
        NanToNum.inplace_forward(out, nan, posinf, neginf)
        return out

    def inplace_forward(out, nan=0.0, posinf=None, neginf=None):
        if out.dtype.kind in "iub":
            return
        info = _dt.finfo(_dt._BY_NUMPY[out.dtype])
        out[np.isnan(out)] = nan
        out[out == np.inf] = info.max if posinf is None else posinf
        out[out == -np.inf] = info.min if neginf is None else neginf

    def backward(ctx, grad):
        (a,) = ctx.inputs
        return grad * from_array(np.isfinite(a._data).astype(grad._data.dtype))


# ============================================================================ clamp
def _check_clamp(op_name, min, max):
    if min is None and max is None:
        raise op_error(RuntimeError, op_name, "torch.clamp: At least one of 'min' or 'max' must not be None")


@register_op
class Clamp:
    """Limit every element to ``[min, max]``; either bound may be None, a number or a tensor.

    If ``min > max``, every element becomes ``max`` (as in PyTorch).

    >>> ember.clamp(ember.tensor([-2.0, 0.5, 3.0]), min=-1, max=1)
    tensor([-1.0000,  0.5000,  1.0000])
    """

    name = "clamp"
    names = ("clamp", "clip")
    kind = "elementwise"
    save = ("inputs",)
    method = True

    def function(input, min=None, max=None, *, out=None):
        _check_clamp("clamp", min, max)
        result = Clamp(input, min, max)
        return result if out is None else write_out(result, out)

    def inplace(self, min=None, max=None):
        """In-place ``clamp``.

        >>> ember.tensor([-2.0, 5.0]).clamp_(0, 1)
        tensor([0., 1.])
        """
        _check_clamp("clamp_", min, max)
        return apply_inplace(Clamp, self, min, max)

    def forward(a, lo, hi):
        out = a if lo is None else np.maximum(a, lo)
        if hi is not None:
            reuse = out is not a and _broadcasts_into(np.shape(hi), out.shape)
            out = np.minimum(out, hi, out=out if reuse else None)
        elif out is a:
            out = a.copy()
        return out

    def inplace_forward(out, lo, hi):
        if lo is not None:
            np.maximum(out, lo, out=out)
        if hi is not None:
            np.minimum(out, hi, out=out)

    def backward(ctx, grad):
        a, lo, hi = ctx.inputs
        x = a._data
        lo_a = lo._data if isinstance(lo, Tensor) else lo
        hi_a = hi._data if isinstance(hi, Tensor) else hi
        dtype = grad._data.dtype
        grads = [None, None, None]
        if _need(ctx, 0):
            keep = np.ones(x.shape, dtype=bool)
            if lo_a is not None:
                keep = keep & (x >= lo_a)
            if hi_a is not None:
                keep = keep & (x <= hi_a)
            grads[0] = grad * from_array(keep.astype(dtype))
        if _need(ctx, 1):
            below = x < lo_a
            if hi_a is not None:
                below = below & (lo_a < hi_a)
            grads[1] = grad * from_array(below.astype(dtype))
        if _need(ctx, 2):
            above = x > hi_a
            if lo_a is not None:
                above = above | (hi_a < lo_a)
            grads[2] = grad * from_array(above.astype(dtype))
        return tuple(grads)


@register_function(method=True, inplace=lambda self, min: apply_inplace(Clamp, self, min, None))
def clamp_min(input, min):
    """``clamp(input, min=min)``.

    >>> ember.clamp_min(ember.tensor([-2.0, 3.0]), 0)
    tensor([0., 3.])
    """
    return Clamp(input, min, None)


@register_function(method=True, inplace=lambda self, max: apply_inplace(Clamp, self, None, max))
def clamp_max(input, max):
    """``clamp(input, max=max)``.

    >>> ember.clamp_max(ember.tensor([-2.0, 3.0]), 0)
    tensor([-2.,  0.])
    """
    return Clamp(input, None, max)


# ============================================================================ two-operand functions
def _binary(op_name, compute, grads, promote="standard", allowed=None, save=("inputs",), ufunc=None,
            differentiable=True, doc=None, names=None, inplace=True, tensor_only=True, c_form=None):
    """Register a two-operand function; ``grads(ctx, grad, a, b)`` returns both gradients with ember ops.
    ``tensor_only``: the second operand must be a tensor (else PyTorch's TypeError); ``c_form``: the op's fact
    for ember.compile's fusion loops (see ember/ops/registry.py)."""
    def forward(a, b):
        with np.errstate(all="ignore"):
            return compute(a, b)

    def inplace_forward(out, b):
        with np.errstate(all="ignore"):
            if ufunc is not None:
                ufunc(out, b, out=out, casting="unsafe")
            else:
                np.copyto(out, compute(out, b), casting="unsafe")

    attrs = {"name": op_name, "kind": "elementwise", "promote": promote, "forward": forward,
             "inplace_forward": inplace_forward, "ufunc": ufunc, "save": save if differentiable else (),
             "__doc__": doc, "__module__": __name__, "names": names or (op_name,), "method": True, "inplace": inplace}
    if tensor_only:
        def function(input, other, *, out=None):
            require_tensor(op_name, other, "other", 2)
            result = op(input, other)
            return result if out is None else write_out(result, out)
        attrs["function"] = function
    if allowed is not None:
        attrs["allowed"] = allowed
    if c_form is not None:
        attrs["c_form"] = c_form
    if differentiable:
        def backward(ctx, grad):
            a, b = ctx.inputs
            return grads(ctx, _up(grad), _up(a), _up(b))
        attrs["backward"] = backward
    op = register_op(type(op_name.title().replace("_", ""), (), attrs))
    return op


def _binary_doc(summary, name, example, result):
    return f"{summary}\n\n    >>> ember.{name}({example})\n    {result}\n"


def _check_int_divisor(op_name, a, b):
    if a.dtype.kind in "iub" and np.any(np.asarray(b) == 0):
        raise op_error(RuntimeError, op_name, "ZeroDivisionError: integer division by zero")


def _fmod_compute(a, b):
    _check_int_divisor("fmod", a, b)
    return np.fmod(a, b)


Fmod = _binary("fmod", _fmod_compute, lambda ctx, g, a, b: (
    g if _need(ctx, 0) else None, -g * Trunc(a / b) if _need(ctx, 1) else None), allowed={1, 2}, tensor_only=False,
    doc=_binary_doc("C's ``fmod``: the remainder has the sign of the dividend (``remainder`` takes the divisor's).",
                    "fmod", "ember.tensor([-3, 3]), 2", "tensor([-1,  1])"))


def _atan2_grads(ctx, g, a, b):
    denominator = a * a + b * b
    return (g * b / denominator if _need(ctx, 0) else None, -g * a / denominator if _need(ctx, 1) else None)


Atan2 = _binary("atan2", np.arctan2, _atan2_grads, promote="float", ufunc=np.arctan2, names=("atan2", "arctan2"),
                doc=_binary_doc("The angle of the point ``(other, input)``, in ``(-pi, pi]``.", "atan2",
                                "ember.tensor([1.0]), ember.tensor([-1.0])", "tensor([2.3562])"))


def _hypot_grads(ctx, g, a, b):
    out = ctx.output
    return (g * a / out if _need(ctx, 0) else None, g * b / out if _need(ctx, 1) else None)


Hypot = _binary("hypot", np.hypot, _hypot_grads, promote="float", allowed={2}, ufunc=np.hypot,
                save=("inputs", "output"),
                doc=_binary_doc("``sqrt(input**2 + other**2)`` without overflow.", "hypot",
                                "ember.tensor([3.0]), ember.tensor([4.0])", "tensor([5.])"))


def _arr(v):
    return v._data if isinstance(v, Tensor) else np.asarray(v)


def _max_min_grads(greater):
    def grads(ctx, g, a, b):
        x, y = _arr(a), _arr(b)
        tie = x == y
        wins = (x > y) if greater else (x < y)
        loses = (x < y) if greater else (x > y)
        dtype = g._data.dtype
        share_a = np.where(tie, 0.5, np.where(loses, 0.0, 1.0)).astype(dtype)
        share_b = np.where(tie, 0.5, np.where(wins, 0.0, 1.0)).astype(dtype)
        return (g * from_array(share_a) if _need(ctx, 0) else None, g * from_array(share_b) if _need(ctx, 1) else None)
    return grads


def _fmax_fmin_grads(greater):
    def grads(ctx, g, a, b):
        x, y = _arr(a), _arr(b)
        a_wins = ((x >= y) if greater else (x <= y)) | np.isnan(y)
        dtype = g._data.dtype
        return (g * from_array(a_wins.astype(dtype)) if _need(ctx, 0) else None,
                g * from_array((~a_wins).astype(dtype)) if _need(ctx, 1) else None)
    return grads


_PAIR = "ember.tensor([1.0, -2.0]), ember.tensor([3.0, 4.0])"
_NAN_PAIR = "ember.tensor([float('nan'), 1.0]), ember.tensor([2.0, 0.0])"
Maximum = _binary("maximum", np.maximum, _max_min_grads(True), ufunc=np.maximum, inplace=False,
                  c_form="ember_max({a}, {b})",
                  doc=_binary_doc("Elementwise maximum; NaN in either input gives NaN. Ties split the gradient evenly.",
                                  "maximum", _PAIR, "tensor([3., 4.])"))
Minimum = _binary("minimum", np.minimum, _max_min_grads(False), ufunc=np.minimum, inplace=False,
                  c_form="ember_min({a}, {b})",
                  doc=_binary_doc("Elementwise minimum; NaN in either input gives NaN.", "minimum", _PAIR,
                                  "tensor([ 1., -2.])"))
Fmax = _binary("fmax", np.fmax, _fmax_fmin_grads(True), ufunc=np.fmax, inplace=False,
               doc=_binary_doc("Elementwise maximum that ignores NaN (NaN only if both are NaN).", "fmax", _NAN_PAIR,
                               "tensor([2., 1.])"))
Fmin = _binary("fmin", np.fmin, _fmax_fmin_grads(False), ufunc=np.fmin, inplace=False,
               doc=_binary_doc("Elementwise minimum that ignores NaN.", "fmin", _NAN_PAIR, "tensor([2., 0.])"))


def _copysign_grads(ctx, g, a, b):
    grad_a = None
    if _need(ctx, 0):
        x = a._data if isinstance(a, Tensor) else np.asarray(a)
        y = b._data if isinstance(b, Tensor) else np.asarray(b)
        with np.errstate(all="ignore"):
            ratio = np.where(x == 0, 0, np.copysign(x, y) / x).astype(g._data.dtype)
        grad_a = g * from_array(ratio)
    return grad_a, (g * 0 if _need(ctx, 1) else None)


Copysign = _binary("copysign", np.copysign, _copysign_grads, promote="float", ufunc=np.copysign, tensor_only=False,
                   doc=_binary_doc("The magnitude of ``input`` with the sign of ``other``; result is floating point.",
                                   "copysign", "ember.tensor([1.0, 2.0]), -1.0", "tensor([-1., -2.])"))


def _xlogy_compute(x, y):
    out = np.asarray(x * np.log(y))
    return np.where((x == 0) & ~np.isnan(y), np.zeros((), dtype=out.dtype), out)


def _xlogy_grads(ctx, g, a, b):
    grad_a = grad_b = None
    if _need(ctx, 0):
        grad_a = g * Xlogy((a != 0).to(g.dtype), b)
    if _need(ctx, 1):
        grad_b = g * a / b
    return grad_a, grad_b


Xlogy = _binary("xlogy", _xlogy_compute, _xlogy_grads, promote="float", tensor_only=False,
                doc=_binary_doc("``input * log(other)``, defined as 0 where ``input == 0`` (unless ``other`` is NaN).",
                                "xlogy", "ember.tensor([0.0, 2.0]), ember.tensor([0.0, 1.0])", "tensor([0., 0.])"))


def _logaddexp_grads(base_exp):
    def grads(ctx, g, a, b):
        return (g / (1 + base_exp(b - a)) if _need(ctx, 0) else None,
                g / (1 + base_exp(a - b)) if _need(ctx, 1) else None)
    return grads


Logaddexp = _binary("logaddexp", np.logaddexp, _logaddexp_grads(lambda t: Exp(t)), promote="float", allowed={2},
                    ufunc=np.logaddexp, inplace=False,
                    doc=_binary_doc("``log(exp(input) + exp(other))`` without overflow.", "logaddexp",
                                    "ember.tensor([0.0]), ember.tensor([0.0])", "tensor([0.6931])"))
Logaddexp2 = _binary("logaddexp2", np.logaddexp2, _logaddexp_grads(lambda t: Exp2(t)), promote="float",
                     allowed={2}, ufunc=np.logaddexp2, inplace=False,
                     doc=_binary_doc("``log2(2**input + 2**other)`` without overflow.", "logaddexp2",
                                     "ember.tensor([0.0]), ember.tensor([0.0])", "tensor([1.])"))


def _heaviside_arguments(op_name, input, values):
    require_tensor(op_name, values, "values", 2 if op_name == "heaviside" else 1)
    if values._dtype is not input._dtype:
        raise op_error(RuntimeError, op_name, "heaviside is not yet implemented for tensors with different dtypes "
                       f"(input is {input._dtype.name}, values is {values._dtype.name}).")


@register_op
class Heaviside:
    """The Heaviside step: 0 below zero, 1 above, ``values`` at zero (same dtype as ``input``).

    >>> ember.heaviside(ember.tensor([-1.0, 0.0, 2.0]), ember.tensor(0.5))
    tensor([0.0000, 0.5000, 1.0000])
    """

    name = "heaviside"
    kind = "elementwise"
    method = True

    def function(input, values):
        _heaviside_arguments("heaviside", input, values)
        return Heaviside(input, values)

    def inplace(self, values):
        _heaviside_arguments("heaviside_", self, values)
        return apply_inplace(Heaviside, self, values)

    def forward(a, v):
        with np.errstate(all="ignore"):
            return np.where(a == 0, v, a > 0).astype(np.result_type(a, v))

    def inplace_forward(out, v):
        np.copyto(out, Heaviside.forward(out, v), casting="unsafe")


@register_function(method=True, out=True)
def float_power(input, exponent):
    """``input ** exponent`` computed in float64 (the result is always float64).

    >>> ember.float_power(ember.tensor([2, 3]), 2)
    tensor([4., 9.], dtype=ember.float64)
    """
    base = Cast(input, dtype=_dt.float64) if isinstance(input, Tensor) and input._dtype is not _dt.float64 else input
    power = Cast(exponent, dtype=_dt.float64) if isinstance(exponent, Tensor) and exponent._dtype is not _dt.float64 \
        else exponent
    if not isinstance(base, Tensor) and not isinstance(power, Tensor):
        raise op_error(TypeError, "float_power", "float_power() needs at least one tensor argument")
    if not isinstance(base, Tensor):
        base = from_array(np.asarray(base, dtype=np.float64))
    return Pow(base, float(power) if not isinstance(power, Tensor) else power)


@register_function(method=True)
def float_power_(self, exponent):
    """In-place ``float_power``; ``self`` must be float64.

    >>> ember.tensor([2.0], dtype=ember.float64).float_power_(3)
    tensor([8.], dtype=ember.float64)
    """
    if self._dtype is not _dt.float64:
        raise op_error(RuntimeError, "float_power_", f"the base given to float_power_ has dtype "
                       f"{_torch_type_name(self._dtype)} but the operation's result requires dtype Double")
    check_inplace_allowed(self, "float_power_")
    write_result_into(self, float_power(self, exponent), "float_power_")
    return self


@register_op
class Ldexp:
    """``input * 2 ** other``, in the promoted floating dtype (half inputs computed in float32, rounded once).

    >>> ember.ldexp(ember.tensor([1.5, -3.0]), ember.tensor([2, -1]))
    tensor([ 6.0000, -1.5000])
    """

    name = "ldexp"
    kind = "elementwise"
    promote = "float"
    save = ("inputs", "output")
    method = True
    inplace = True

    def forward(a, b):
        with np.errstate(over="ignore", under="ignore"):
            return _back(_opmath(a) * np.exp2(_opmath(b)), a)

    def backward(ctx, grad):
        a, b = ctx.inputs
        if _need(ctx, 0):  # 2 ** other in the result's dtype, as forward (an integer power would make 2 ** -4 zero)
            b = b if b._dtype is ctx.output._dtype else Cast(b, dtype=ctx.output._dtype)
        return (grad * Exp2(b) if _need(ctx, 0) else None,
                grad * ctx.output * _LN2 if _need(ctx, 1) else None)


@register_op
class Frexp:
    """Split each element into a mantissa in ``[0.5, 1)`` (by magnitude) and an int32 exponent with
    ``input = mantissa * 2 ** exponent``; zeros, infinities and NaN keep a 0 exponent.

    >>> ember.frexp(ember.tensor([8.0, 0.3, -5.0]))
    ember.return_types.frexp(
    mantissa=tensor([ 0.5000,  0.6000, -0.6250]),
    exponent=tensor([ 4, -1,  3], dtype=ember.int32))
    """

    name = "frexp"
    kind = "elementwise"
    promote = "none"
    method = True
    out = False

    def function(input):
        if not isinstance(input, Tensor) or not input._dtype.is_floating_point:
            raise op_error(RuntimeError, "frexp", "torch.frexp() only supports floating-point dtypes (got "
                           f"{input._dtype.name if isinstance(input, Tensor) else type(input).__name__})")
        from ember import return_types
        return return_types.frexp(Frexp(input))

    def forward(ctx, a):
        mantissa, exponent = np.frexp(a)
        ctx.exponent = exponent
        return mantissa, exponent.astype(np.int32, copy=False)

    def backward(ctx, grad, grad_exponent=None):
        return grad * from_array(np.ldexp(np.ones((), grad._data.dtype), -ctx.exponent))


def _integer_only(op_name):
    return lambda operands: _check_integers(op_name, operands)


def _check_integers(op_name, operands):
    dt = _dt.result_type_of(operands)
    if dt.category != 1:
        raise op_error(RuntimeError, op_name, f'"{op_name}_cpu" not implemented for \'{_torch_type_name(dt)}\'')
    return dt


Gcd = _binary("gcd", np.gcd, None, promote=_integer_only("gcd"), ufunc=np.gcd, differentiable=False,
              doc=_binary_doc("The greatest common divisor of each pair (integer tensors; never negative).", "gcd",
                              "ember.tensor([12, -18, 0]), ember.tensor([8, 12, 0])", "tensor([4, 6, 0])"))
Lcm = _binary("lcm", np.lcm, None, promote=_integer_only("lcm"), ufunc=np.lcm, differentiable=False,
              doc=_binary_doc("The least common multiple of each pair (integer tensors; never negative).", "lcm",
                              "ember.tensor([4, -6, 0]), ember.tensor([6, 4, 5])", "tensor([12, 12,  0])"))


def _nextafter_grads(ctx, g, a, b):
    return (g if _need(ctx, 0) else None, g * 0 if _need(ctx, 1) else None)


def _check_floating(op_name):
    def rule(operands):
        dt = _dt.result_type_of(operands)
        if dt.category != 2:
            raise op_error(RuntimeError, op_name, f'"{op_name}_cpu" not implemented for \'{_torch_type_name(dt)}\'')
        return dt
    return rule


Nextafter = _binary("nextafter", np.nextafter, _nextafter_grads, promote=_check_floating("nextafter"),
                    ufunc=np.nextafter, doc=_binary_doc(
                        "The next floating-point value after ``input`` in the direction of ``other``.", "nextafter",
                        "ember.tensor([1.0, 0.0], dtype=ember.float64), ember.tensor([2.0, -1.0], dtype=ember.float64)",
                        "tensor([ 1.0000e+00, -4.9407e-324], dtype=ember.float64)"))


# Cephes' Chebyshev coefficients (Moshier, public domain) for the modified Bessel functions: exp(-x) I1(x) / x on
# [0, 8] and exp(-x) sqrt(x) I1(x) on [8, inf). I0 itself is NumPy's np.i0 (the same Cephes method).
_I1_A = (2.77791411276104639959e-18, -2.11142121435816608115e-17, 1.55363195773620046921e-16,
         -1.10559694773538630805e-15, 7.60068429473540693410e-15, -5.04218550472791168711e-14,
         3.22379336594557470981e-13, -1.98397439776494371520e-12, 1.17361862988909016308e-11,
         -6.66348972350202774223e-11, 3.62559028155211703701e-10, -1.88724975172282928790e-9,
         9.38153738649577178388e-9, -4.44505912879632808065e-8, 2.00329475355213526229e-7,
         -8.56872026469545474066e-7, 3.47025130813767847674e-6, -1.32731636560394358279e-5,
         4.78156510755005422638e-5, -1.61760815825896745588e-4, 5.12285956168575772895e-4,
         -1.51357245063125314899e-3, 4.15642294431288815669e-3, -1.05640848946261981558e-2,
         2.47264490306265168283e-2, -5.29459812080949914269e-2, 1.02643658689847095384e-1,
         -1.76416518357834055153e-1, 2.52587186443633654823e-1)
_I1_B = (7.51729631084210481353e-18, 4.41434832307170791151e-18, -4.65030536848935832153e-17,
         -3.20952592199342395980e-17, 2.96262899764595013876e-16, 3.30820231092092828324e-16,
         -1.88035477551078244854e-15, -3.81440307243700780478e-15, 1.04202769841288027642e-14,
         4.27244001671195135429e-14, -2.10154184277266431302e-14, -4.08355111109219731823e-13,
         -7.19855177624590851209e-13, 2.03562854414708950722e-12, 1.41258074366137813316e-11,
         3.25260358301548823856e-11, -1.89749581235054123450e-11, -5.58974346219658380687e-10,
         -3.83538038596423702205e-9, -2.63146884688951950684e-8, -2.51223623787020892529e-7,
         -3.88256480887769039346e-6, -1.10588938762623716291e-4, -9.76109749136146840777e-3,
         7.78576235018280120474e-1)


def _chebyshev(x, coefficients):
    """Cephes' ``chbevl``: the Chebyshev series ``coefficients`` (highest order first) at ``x``."""
    b0, b1 = np.zeros_like(x), np.zeros_like(x)
    for c in coefficients:
        b2, b1 = b1, b0
        b0 = x * b1 - b2 + c
    return 0.5 * (b0 - b2)


def _i1_kernel(x):
    z = np.abs(x)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        small = _chebyshev(z / 2.0 - 2.0, _I1_A) * z * np.exp(z)
        large = np.exp(z) * _chebyshev(32.0 / np.maximum(z, 8.0) - 2.0, _I1_B) / np.sqrt(z)
    return np.copysign(np.where(z <= 8.0, small, large), x)


def _i1_grad(g, a):
    """``I1'(x) = I0(x) - I1(x) / x``, whose limit at 0 is 1/2."""
    safe = Where(a == 0, 1.0, a)
    return g * Where(a == 0, 0.5, I0(a) - I1(a) / safe)


I0 = _unary("i0", _via_float64(np.i0), lambda g, a: g * I1(a),
            doc=_doc("The modified Bessel function of the first kind of order 0.", "i0", "[0.0, 1.0, -2.5]",
                     "tensor([1.0000, 1.2661, 3.2898])"))
# I1 is i0's derivative (torch.special.i1 once ember.special exists); its own backward keeps i0 twice differentiable
I1 = _unary("i1", _via_float64(_i1_kernel), _i1_grad, public=False,
            doc="The modified Bessel function of the first kind of order 1.")


# ============================================================================ three-operand functions
def _check_lerp(input, end, weight, op_name="lerp"):
    require_tensor(op_name, end, "end", 2)
    if input._dtype.category != 2:
        raise op_error(RuntimeError, op_name, f"\"lerp_kernel_scalar\" not implemented for "
                       f"'{_torch_type_name(input._dtype)}' (lerp needs floating-point tensors)")
    if end._dtype is not input._dtype:
        raise op_error(RuntimeError, op_name, f"expected dtype {input._dtype.name} for `end` but got dtype "
                       f"{end._dtype.name}")
    if isinstance(weight, Tensor) and weight._data.ndim and weight._dtype is not input._dtype:
        raise op_error(RuntimeError, op_name, f"expected dtype {input._dtype.name} for `weight` but got dtype "
                       f"{weight._dtype.name}")


def _lerp_call(run, input, end, weight):
    """``run(input, end, w, scalar_weight=...)`` with a tensor weight cast to ``input``'s dtype, or a number."""
    if isinstance(weight, Tensor):
        if weight._dtype is not input._dtype:
            weight = Cast(weight, dtype=input._dtype)
        return run(input, end, weight)
    return run(input, end, None, scalar_weight=float(weight))


@register_op
class Lerp:
    """Linear interpolation ``input + weight * (end - input)``; ``weight`` is a number or a tensor.

    Evaluated as PyTorch does for accuracy near ``weight = 1``.

    >>> ember.lerp(ember.tensor([0.0, 10.0]), ember.tensor([10.0, 20.0]), 0.25)
    tensor([ 2.5000, 12.5000])
    """

    name = "lerp"
    kind = "elementwise"
    allowed = {2}
    save = ("inputs",)
    method = True

    def function(input, end, weight):
        _check_lerp(input, end, weight)
        return _lerp_call(Lerp, input, end, weight)

    def inplace(self, end, weight):
        """In-place ``lerp``: ``self += weight * (end - self)`` (optimizers' moving averages).

        >>> ember.zeros(2).lerp_(ember.ones(2), 0.1)
        tensor([0.1000, 0.1000])
        """
        _check_lerp(self, end, weight, "lerp_")
        return _lerp_call(lambda *args, **attrs: apply_inplace(Lerp, *args, **attrs), self, end, weight)

    def forward(ctx, a, b, w, scalar_weight=None):
        ctx.scalar_weight = scalar_weight
        x, y = _opmath(a), _opmath(b)
        delta = y - x
        weight = x.dtype.type(scalar_weight) if w is None else _opmath(w)
        if x.dtype == np.float32:
            # PyTorch's CPU kernel uses fused multiply-adds (one rounding); float32 products are exact in float64,
            # so one float64 multiply-add rounded once to float32 gives the same bits.
            x, y, delta = x.astype(np.float64), y.astype(np.float64), delta.astype(np.float64)
            complement = (np.float32(1) - weight).astype(np.float64)
            weight = np.asarray(weight).astype(np.float64)
        else:
            complement = 1 - weight
        if w is None:
            result = x + weight * delta if abs(scalar_weight) < 0.5 else y - delta * complement
        else:
            result = np.where(np.abs(weight) < 0.5, x + weight * delta, y - delta * complement)
        return _back(np.asarray(result).astype(a.dtype if a.dtype == np.float32 else result.dtype, copy=False), a)

    def inplace_forward(out, b, w, scalar_weight=None):
        if scalar_weight is None or out.dtype in _HALF or out.dtype == np.float32:
            np.copyto(out, Lerp.forward(_SCRATCH, out, b, w, scalar_weight), casting="unsafe")
            return
        weight = out.dtype.type(scalar_weight)
        delta = np.subtract(b, out)
        if abs(scalar_weight) < 0.5:
            delta *= weight
            np.add(out, delta, out=out)
        else:
            delta *= 1 - weight
            np.subtract(b, delta, out=out)

    def backward(ctx, grad):
        a, b, w = ctx.inputs
        weight = ctx.scalar_weight if w is None else w
        return (grad * (1 - weight) if _need(ctx, 0) else None,
                grad * weight if _need(ctx, 1) else None,
                grad * (b - a) if w is not None and _need(ctx, 2) else None)


def _value_for(value, *operands):
    """PyTorch casts ``value`` to the result dtype (so 0.5 becomes 0 for integer tensors)."""
    if value.__class__ is int or value.__class__ is float:
        if _dt.result_type_of(operands).category < 2:
            return int(value)
        return value
    if isinstance(value, Tensor):
        return value.item()
    return value


@register_op
class Addcmul:
    """``input + value * tensor1 * tensor2``.

    >>> ember.addcmul(ember.tensor([1.0]), ember.tensor([2.0]), ember.tensor([3.0]), value=0.5)
    tensor([4.])
    """

    name = "addcmul"
    kind = "elementwise"
    save = ("inputs",)
    method = True

    def function(input, tensor1, tensor2, *, value=1):
        return Addcmul(input, tensor1, tensor2, value=_value_for(value, input, tensor1, tensor2))

    def inplace(self, tensor1, tensor2, *, value=1):
        """In-place ``addcmul``: ``self += value * tensor1 * tensor2``.

        >>> ember.ones(2).addcmul_(ember.tensor([1.0, 2.0]), ember.tensor([3.0, 4.0]), value=0.5)
        tensor([2.5000, 5.0000])
        """
        return apply_inplace(Addcmul, self, tensor1, tensor2, value=_value_for(value, self, tensor1, tensor2))

    def forward(ctx, a, t1, t2, value=1):
        ctx.value = value
        dtype = np.result_type(a, t1, t2)
        product = np.asarray(np.multiply(_opmath(t1), _opmath(t2)))
        if value != 1:
            product *= product.dtype.type(value)
        if _broadcasts_into(np.shape(a), product.shape):
            return np.add(product, _opmath(a), out=product).astype(dtype, copy=False)
        return (product + _opmath(a)).astype(dtype, copy=False)

    def inplace_forward(out, t1, t2, value=1):
        if out.dtype in _HALF:
            np.copyto(out, Addcmul.forward(_SCRATCH, out, t1, t2, value), casting="unsafe")
            return
        product = np.multiply(t1, t2)
        if value != 1:
            product *= product.dtype.type(value)
        np.add(out, product, out=out, casting="unsafe")

    def backward(ctx, grad):
        a, t1, t2 = ctx.inputs
        value = ctx.value
        scaled = grad if value == 1 else grad * value
        return (grad if _need(ctx, 0) else None, scaled * t2 if _need(ctx, 1) else None,
                scaled * t1 if _need(ctx, 2) else None)


def _check_addcdiv(tensor1, tensor2):
    if (isinstance(tensor1, Tensor) and isinstance(tensor2, Tensor) and tensor1._dtype.category < 2
            and tensor2._dtype.category < 2):
        raise op_error(RuntimeError, "addcdiv", "Integer division with addcdiv is no longer supported, and in a future "
                       "release addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
                       "behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) "
                       "for integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                       "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), for "
                       "all dtypes.")


@register_op
class Addcdiv:
    """``input + value * tensor1 / tensor2`` (integer ``tensor1``/``tensor2`` are rejected, as in PyTorch).

    >>> ember.addcdiv(ember.tensor([1.0]), ember.tensor([3.0]), ember.tensor([2.0]), value=2)
    tensor([4.])
    """

    name = "addcdiv"
    kind = "elementwise"
    save = ("inputs",)
    method = True

    def function(input, tensor1, tensor2, *, value=1):
        _check_addcdiv(tensor1, tensor2)
        return Addcdiv(input, tensor1, tensor2, value=_value_for(value, input, tensor1, tensor2))

    def inplace(self, tensor1, tensor2, *, value=1):
        """In-place ``addcdiv``: ``self += value * tensor1 / tensor2``.

        >>> ember.ones(2).addcdiv_(ember.tensor([1.0, 2.0]), ember.tensor([2.0, 4.0]), value=-1)
        tensor([0.5000, 0.5000])
        """
        _check_addcdiv(tensor1, tensor2)
        return apply_inplace(Addcdiv, self, tensor1, tensor2, value=_value_for(value, self, tensor1, tensor2))

    def forward(ctx, a, t1, t2, value=1):
        ctx.value = value
        dtype = np.result_type(a, t1, t2)
        with np.errstate(all="ignore"):
            quotient = np.asarray(np.true_divide(_opmath(t1), _opmath(t2)))
        if value != 1:
            quotient *= quotient.dtype.type(value)
        if _broadcasts_into(np.shape(a), quotient.shape):
            return np.add(quotient, _opmath(a), out=quotient).astype(dtype, copy=False)
        return (quotient + _opmath(a)).astype(dtype, copy=False)

    def inplace_forward(out, t1, t2, value=1):
        if out.dtype in _HALF:
            np.copyto(out, Addcdiv.forward(_SCRATCH, out, t1, t2, value), casting="unsafe")
            return
        with np.errstate(all="ignore"):
            quotient = np.true_divide(t1, t2)
        if value != 1:
            quotient *= quotient.dtype.type(value)
        np.add(out, quotient, out=out, casting="unsafe")

    def backward(ctx, grad):
        a, t1, t2 = ctx.inputs
        value = ctx.value
        scaled = grad if value == 1 else grad * value
        return (grad if _need(ctx, 0) else None, scaled / t2 if _need(ctx, 1) else None,
                -scaled * t1 / (t2 * t2) if _need(ctx, 2) else None)


# ============================================================================ predicates (bool results)
_SPECIALS = "[1.0, float('nan'), float('inf'), -float('inf')]"


def _predicate(op_name, fn, summary, example, result, float_only=True):
    def forward(a):
        if float_only and a.dtype.kind in "iub":
            return np.zeros(a.shape, dtype=bool)
        return fn(a)

    def function(input):
        return op(input)

    op = register_op(type(op_name.title(), (), {
        "name": op_name, "kind": "elementwise", "promote": "none", "forward": forward, "function": function,
        "out": False, "method": True, "__doc__": _doc(summary, op_name, example, result), "__module__": __name__}))
    return op


IsNan = _predicate("isnan", np.isnan, "Whether each element is NaN.", _SPECIALS,
                   "tensor([False,  True, False, False])")
IsInf = _predicate("isinf", np.isinf, "Whether each element is +inf or -inf.", _SPECIALS,
                   "tensor([False, False,  True,  True])")
IsPosInf = _predicate("isposinf", lambda a: a == np.inf, "Whether each element is +inf.", _SPECIALS,
                      "tensor([False, False,  True, False])")
IsNegInf = _predicate("isneginf", lambda a: a == -np.inf, "Whether each element is -inf.", _SPECIALS,
                      "tensor([False, False, False,  True])")
IsFinite = _predicate("isfinite", lambda a: np.ones(a.shape, dtype=bool) if a.dtype.kind in "iub" else np.isfinite(a),
                      "Whether each element is neither NaN nor infinite.", _SPECIALS,
                      "tensor([ True, False, False, False])", float_only=False)
SignBit = _predicate("signbit", lambda a: (a < 0) if a.dtype.kind in "iub" else np.signbit(a),
                     "Whether each element's sign bit is set (true for -0.0).", "[1.0, -0.0, -2.0]",
                     "tensor([False,  True,  True])", float_only=False)


@register_function(method=True)
def isreal(input):
    """Whether each element is real: always True, as ember has no complex dtypes.

    >>> ember.isreal(ember.tensor([1.0, 2.0]))
    tensor([True, True])
    """
    return from_array(np.ones(input._data.shape, dtype=bool))
