"""Op table entries: operators (ember/ops/arithmetic.py): arithmetic, comparisons, bitwise and logical ops,
``where``, and the assignments ``fill``/``copy_``."""

from tests.ops.harness import ALL, ALL_FLOATS, FLOATS, INTS, T, ErrorInput, NonContig, OpInfo, Sample, inplace
from tests.ops.table_math_functions import TENSOR_BINARY, UNARY_SAMPLES

BINARY_SAMPLES = TENSOR_BINARY + [Sample((3, 4), 2.5).named("scalar"), Sample(1.5, (3, 4)).named("rscalar")]
BROADCAST_ERROR = [ErrorInput(Sample((2, 3), (4,)), RuntimeError, r"cannot be broadcast")]

OPS = [
    OpInfo("add", samples=BINARY_SAMPLES + [Sample((3,), (3,), alpha=2).named("alpha")],
           dtypes=ALL_FLOATS + INTS, gradgradcheck=True, errors=BROADCAST_ERROR),
    OpInfo("sub", samples=BINARY_SAMPLES, dtypes=FLOATS + INTS, errors=BROADCAST_ERROR + [
        ErrorInput(Sample(T((2,), "bool"), T((2,), "bool")), RuntimeError, r"bool tensors is not supported")]),
    OpInfo("mul", samples=BINARY_SAMPLES, dtypes=ALL, gradgradcheck=True, errors=BROADCAST_ERROR),
    OpInfo("div", samples=BINARY_SAMPLES, dtypes=FLOATS + ("int64",), low=0.5, high=3, gradgradcheck=True),
    OpInfo("neg", samples=[Sample((3, 4)), Sample(()), Sample(NonContig((2, 5)))], dtypes=FLOATS + INTS[:-1]),
    OpInfo("positive", samples=UNARY_SAMPLES, dtypes=ALL_FLOATS + INTS,
           errors=[ErrorInput(Sample(T((3,), "bool")), RuntimeError, "bool tensor is not supported", dtype="bool")]),
    OpInfo("abs", samples=[Sample((3, 4)), Sample(())], dtypes=FLOATS + ("int32",)),
    OpInfo("pow", samples=[Sample((3, 4), (3, 4)), Sample((3,), 2), Sample((3,), 0.5), Sample(2.0, (3,)),
                           Sample((2, 3), (3,))], low=0.5, high=2, dtypes=FLOATS, gradgradcheck=True),
    OpInfo("where", fn=lambda lib, c, a, b: lib.where(c > 0, a, b),
           samples=[Sample(T((3, 4), "float32", grad=False), (3, 4), (3, 4)),
                    Sample(T((3, 1), "float32", grad=False), (4,), 0.0)]),
] + [
    OpInfo(name, samples=[Sample((3, 4), (3, 4)), Sample((3, 4), 0.5), Sample((2, 1), (3,))], grad=False,
           dtypes=("float32", "int64", "bool"))
    for name in ("eq", "ne", "lt", "le", "gt", "ge")
] + [
    OpInfo(name, samples=[Sample((3, 4), (3, 4)), Sample((4,), 3)], grad=False, dtypes=("int64", "int8", "bool"),
           errors=[ErrorInput(Sample((2,), (2,)), RuntimeError, "not implemented for 'Float'")])
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor")
] + [
    OpInfo("remainder", samples=[
        Sample((3, 4), T((3, 4), low=1.0, high=3.0)).named("positive_divisor"),
        Sample((3, 4), T((3, 4), low=-3.0, high=-1.0)).named("negative_divisor"),
        Sample((2, 3, 4), T((4,), low=1.0, high=2.0)).named("broadcast"),
        Sample((3, 4), 1.5).named("scalar"), Sample((3, 4), -2).named("int_scalar"),
        Sample(5, T((3, 4), low=1.0, high=3.0, grad=False)).named("scalar_dividend"),
        Sample(NonContig((3, 4)), T((3, 4), low=1.0, high=2.0)).named("noncontig"),
    ], dtypes=ALL_FLOATS + ("int64", "int32", "int8"), low=-5.0, high=5.0, errors=[
        ErrorInput(Sample(T((3,), "int64"), 0), RuntimeError, "ZeroDivisionError", dtype="int64"),
        ErrorInput(Sample(T((3,), "bool"), T((3,), "bool")), RuntimeError, "not implemented for 'Bool'", dtype="bool")]),
    OpInfo("floor_divide", samples=[
        Sample((3, 4), T((3, 4), low=1.0, high=3.0)), Sample((3, 4), T((3, 4), low=-3.0, high=-1.0)).named("negative"),
        Sample((3, 4), 2).named("scalar"), Sample((), T((3,), low=1.0, high=2.0)).named("zero_dim"),
    ], dtypes=FLOATS + ("int64", "int16"), low=-5.0, high=5.0, grad=False, errors=[
        ErrorInput(Sample(T((3,), "int64"), 0), RuntimeError, "ZeroDivisionError", dtype="int64")]),
    OpInfo("div_rounding", fn=lambda lib, a, b, **k: lib.div(a, b, **k), samples=[
        Sample((3, 4), T((3, 4), low=1.0, high=2.0), rounding_mode="trunc").named("trunc"),
        Sample((3, 4), T((3, 4), low=-2.0, high=-1.0), rounding_mode="floor").named("floor"),
        Sample((3, 4), 3, rounding_mode="trunc").named("trunc_scalar"),
    ], dtypes=FLOATS + ("int64",), low=-5.0, high=5.0, grad=False, errors=[
        ErrorInput(Sample((3,), (3,), rounding_mode="round"), RuntimeError, "rounding_mode")]),
    OpInfo("fill", samples=[Sample((3, 4), 2.5), Sample((), -1), Sample((2,), True)], dtypes=ALL_FLOATS + ("int64", "bool")),
    OpInfo("fill_tensor_value", fn=lambda lib, x, v: lib.fill(x, v),
           samples=[Sample((3, 4), T((), "float64")), Sample((), ())], dtypes=ALL_FLOATS, gradgradcheck=True,
           errors=[ErrorInput(Sample((3,), (2,)), RuntimeError, "only supports 0-dimension value tensor")]),
    *[OpInfo(f"{name}_", fn=inplace(f"{name}_"), samples=[Sample((3, 4), (3, 4)), Sample((3, 4), (4,)).named("broadcast")],
             dtypes=("float32", "int64", "bool"), grad=False)
      for name in ("logical_and", "logical_or", "logical_xor")],
    OpInfo("logical_not_", fn=inplace("logical_not_"), samples=[Sample((3, 4)), Sample(NonContig((3, 4)))],
           dtypes=("float32", "int64", "bool"), grad=False),
    *[OpInfo(name, samples=[Sample((3, 4), T((3, 4), low=0, high=5)), Sample((4,), 2).named("scalar"),
                            Sample((3, 4), T((4,), low=0, high=3)).named("broadcast")],
             dtypes=("int64", "int32", "uint8"), low=-9.0, high=9.0, grad=False,
             errors=[ErrorInput(Sample((2,), (2,)), RuntimeError, "not implemented for 'Float'")])
      for name in ("bitwise_left_shift", "bitwise_right_shift")],
    OpInfo("copy_", fn=inplace("copy_"), samples=[Sample((3, 4), (3, 4)), Sample((3, 4), (4,)).named("broadcast"),
                                                   Sample((3, 4), T((3, 4), "float64")).named("cast")],
           dtypes=ALL_FLOATS + ("int64",), gradgradcheck=True,
           errors=[ErrorInput(Sample((3,), (4,)), RuntimeError, "cannot be broadcast")]),
]
