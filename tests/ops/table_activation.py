"""Op table entries: activations and the softmax family (ember/ops/activation.py)."""

from tests.ops.harness import ALL_FLOATS, FLOATS, T, ErrorInput, NonContig, OpInfo, Sample


def F(name):
    return lambda lib, *a, **k: getattr(lib.nn.functional, name)(*a, **k)


UNARY = [
    Sample((3, 4)),
    Sample(()).named("zero_dim"),
    Sample((0, 3)).named("empty"),
    Sample(NonContig((3, 5))).named("noncontig"),
    Sample((2, 3, 4)).named("3d"),
]
WIDE = dict(low=-5.0, high=5.0)


def unary(name, dtypes=ALL_FLOATS, gradgradcheck=False, samples=None, **kw):
    return OpInfo(f"nn.functional.{name}", fn=F(name), samples=(samples or UNARY), dtypes=dtypes,
                  gradgradcheck=gradgradcheck, **kw)


INT_ERROR = ErrorInput(Sample(T((3,), "int64")), NotImplementedError, "not implemented for 'Long'")

SOFTMAX_SAMPLES = [
    Sample((3, 4), dim=1),
    Sample((3, 4), dim=0),
    Sample((2, 3, 4), dim=-1).named("neg_dim"),
    Sample((2, 3, 4), dim=-2).named("neg_dim2"),
    Sample((), dim=0).named("zero_dim"),
    Sample((0, 3), dim=1).named("empty"),
    Sample(NonContig((3, 5)), dim=1).named("noncontig"),
    Sample(T((3, 4), low=-50, high=50), dim=1).named("large"),
    Sample((3, 4), 1).named("positional_dim"),
]
SOFTMAX_ERRORS = [
    ErrorInput(Sample((3, 4), dim=2), IndexError, "Dimension out of range"),
    ErrorInput(Sample(T((3, 4), "int64"), dim=1), NotImplementedError, "not implemented for 'Long'", dtype="int64"),
]

IMPLICIT_DIM = Sample((2, 3, 4)).named("implicit_dim")

OPS = [
    unary("relu", dtypes=ALL_FLOATS + ("int64", "int32")),
    OpInfo("relu_top", fn=lambda lib, x: lib.relu(x), samples=UNARY[:2], dtypes=FLOATS,
           errors=[ErrorInput(Sample(T((3,), "bool")), RuntimeError, "Boolean inputs not supported")]),
    unary("relu6", **WIDE, samples=UNARY + [Sample((3, 4), inplace=False)]),
    unary("leaky_relu", samples=UNARY + [Sample((3, 4), 0.2).named("slope"), Sample((3, 4), negative_slope=-0.5)],
          errors=[INT_ERROR]),
    unary("elu", gradgradcheck=True, **WIDE, samples=UNARY + [Sample((3, 4), alpha=0.5)]),
    unary("selu", gradgradcheck=True, **WIDE),
    unary("celu", gradgradcheck=True, **WIDE, samples=UNARY + [Sample((3, 4), alpha=2.0)]),
    unary("gelu", gradgradcheck=True, **WIDE, errors=[
        INT_ERROR, ErrorInput(Sample((3,), approximate="foo"), RuntimeError, "none or tanh")]),
    OpInfo("nn.functional.gelu_tanh", fn=lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"),
           samples=UNARY, dtypes=ALL_FLOATS, gradgradcheck=True, **WIDE),
    OpInfo("nn.functional.gelu_tails", fn=F("gelu"), samples=[Sample(T((50,), low=-12, high=12))],
           dtypes=FLOATS, gradgradcheck=True),
    unary("silu", gradgradcheck=True, **WIDE, errors=[INT_ERROR]),
    unary("mish", gradgradcheck=True, **WIDE),
    unary("softplus", gradgradcheck=True, **WIDE, samples=UNARY + [
        Sample((3, 4), beta=2.0, threshold=3.0).named("beta_threshold"),
        Sample(T((3, 4), low=-50, high=50), beta=0.5).named("large")]),
    unary("softsign", gradgradcheck=True),
    unary("hardtanh", **WIDE, samples=UNARY + [Sample((3, 4), -2.0, 3.0), Sample((3, 4), min_val=0.0, max_val=0.5)]),
    unary("hardsigmoid", **WIDE),
    unary("hardswish", gradgradcheck=True, **WIDE),
    OpInfo("nn.functional.prelu", fn=F("prelu"), dtypes=ALL_FLOATS, gradgradcheck=True, samples=[
        Sample((3, 4), (1,)), Sample((3, 4), (4,)).named("per_channel"),
        Sample((2, 3, 4, 5), (3,)).named("4d"), Sample((5,), (1,)).named("1d"), Sample((), (1,)).named("zero_dim"),
        Sample((2, 3, 4), ()).named("0d_weight")],
        errors=[ErrorInput(Sample((2, 3, 4), (4,)), RuntimeError, "Found parameter numbers = 4 and channel size = 3"),
                ErrorInput(Sample((2, 3), (3, 1)), RuntimeError, "scalar or 1D tensor")]),
    OpInfo("nn.functional.rrelu", fn=F("rrelu"), dtypes=FLOATS, samples=UNARY + [
        Sample((3, 4), 0.1, 0.3), Sample((3, 4), lower=0.2, upper=0.5, training=False)],
        errors=[ErrorInput(Sample((3,), 0.5, 0.1), RuntimeError, "Lower bound should be less than or equal")]),
    OpInfo("nn.functional.glu", fn=F("glu"), dtypes=ALL_FLOATS, gradgradcheck=True, samples=[
        Sample((3, 4)), Sample((4, 3), 0).named("dim0"), Sample((2, 4, 3), dim=1), Sample((2, 6), dim=-1),
        Sample((0, 4)).named("empty")],
        errors=[ErrorInput(Sample((2, 3)), RuntimeError, "Halving dimension must be even"),
                ErrorInput(Sample(()), RuntimeError, "does not support scalars")]),
    unary("logsigmoid", gradgradcheck=True, **WIDE,
          samples=UNARY + [Sample(T((10,), low=-100, high=100)).named("large")]),
    # Half: PyTorch's composite (x - tanh(x)) rounds tanh's gradient to half before subtracting; ember's
    # fused backward rounds once, so half gradients differ by an ulp of the intermediate.
    unary("tanhshrink", gradgradcheck=True, dtypes=FLOATS),
    OpInfo("nn.functional.tanhshrink_half", fn=F("tanhshrink"), samples=UNARY, dtypes=("float16", "bfloat16"),
           gradcheck=False, grad_atol=2e-3, grad_rtol=2e-2),
    unary("softshrink", samples=UNARY + [Sample((3, 4), 1.0), Sample((3, 4), lambd=0.0)],
          errors=[ErrorInput(Sample((3,), -1.0), RuntimeError, "lambda must be in range")]),
    unary("hardshrink", samples=UNARY + [Sample((3, 4), 1.0), Sample((3, 4), lambd=0.1)]),
    OpInfo("hardshrink_top", fn=lambda lib, x: lib.hardshrink(x), samples=UNARY[:1]),
    unary("threshold", samples=[Sample((3, 4), 0.5, -2.0), Sample((), 0.0, 1.0), Sample((0, 2), 0.1, 0.0),
                                Sample(NonContig((3, 5)), threshold=-0.5, value=7.0)]),
    OpInfo("threshold_top_int", fn=lambda lib, x: lib.threshold(x, 2, 0), samples=[Sample((3, 4))],
           dtypes=("int64",)),
    OpInfo("nn.functional.softmax", fn=F("softmax"), samples=SOFTMAX_SAMPLES + [IMPLICIT_DIM], dtypes=FLOATS,
           gradgradcheck=True, errors=SOFTMAX_ERRORS),
    OpInfo("nn.functional.log_softmax", fn=F("log_softmax"), samples=SOFTMAX_SAMPLES + [IMPLICIT_DIM],
           dtypes=FLOATS, gradgradcheck=True, errors=SOFTMAX_ERRORS),
    OpInfo("nn.functional.softmin", fn=F("softmin"), samples=SOFTMAX_SAMPLES[:4], dtypes=FLOATS,
           gradgradcheck=True),
    # Half inputs: ember accumulates in float32 and rounds once; PyTorch's CPU kernels round some
    # intermediates (e.g. the sum before the log) to half, so results differ by a few half ulps.
] + [
    OpInfo(f"nn.functional.{name}_half", fn=F(name), samples=SOFTMAX_SAMPLES[:8], dtypes=("float16", "bfloat16"),
           gradcheck=False, atol=2e-3, rtol=2e-2)
    for name in ("softmax", "log_softmax", "softmin")
] + [
    OpInfo("softmax_top", fn=lambda lib, x, d: lib.softmax(x, d), samples=[Sample((3, 4), 1), Sample((3, 4), -1)]),
    OpInfo("log_softmax_method", fn=lambda lib, x, d: x.log_softmax(d), samples=[Sample((3, 4), 0)]),
    OpInfo("softmax_dtype", fn=lambda lib, x: lib.softmax(x, 1, dtype=lib.float64),
           samples=[Sample((3, 4))], dtypes=("float32", "float16")),
    OpInfo("log_softmax_int_dtype", fn=lambda lib, x: lib.nn.functional.log_softmax(x, 0, dtype=lib.float32),
           samples=[Sample(T((5,), "int64"))], dtypes=("int64",), grad=False),
    OpInfo("softmax_double_backward_grad", fn=lambda lib, x: lib.autograd.grad(
        lib.softmax(x, -1)[..., 0].sum(), x, create_graph=True)[0],
        samples=[Sample((3, 4))], dtypes=FLOATS, gradgradcheck=True),
]
