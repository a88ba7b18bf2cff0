"""Op table entries: linear and bilinear maps (ember/ops/nn_misc.py)."""

from tests.ops.harness import FLOATS, T, ErrorInput, NonContig, OpInfo, Sample, low_precision

OPS = [
    OpInfo("nn.functional.linear", dtypes=FLOATS + ("int64",), gradgradcheck=True,
           samples=[
               Sample((2, 3), (4, 3), (4,)).named("2d_bias"),
               Sample((2, 5, 3), (4, 3)).named("3d_no_bias"),
               Sample((2, 2, 2, 3), (4, 3), (4,)).named("4d_bias"),
               Sample((3,), (4, 3), (4,)).named("1d_input"),
               Sample((2, 3), (3,)).named("1d_weight"),
               Sample(NonContig((3, 4)), NonContig((5, 4)), (5,)).named("noncontig"),
               Sample((0, 3), (4, 3), (4,)).named("empty"),
               Sample((2, 3), (4, 3), (1,)).named("broadcast_bias"),
           ],
           errors=[
               ErrorInput(Sample((2, 3), (4, 5)), RuntimeError,
                          r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 5x4\).*\[2, 3\].*\[4, 5\]"),
               ErrorInput(Sample((2, 3), T((4, 3), "float64")), RuntimeError, r"same dtype.*float32.*float64"),
           ]),
    OpInfo("nn.functional.bilinear", dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((2, 3), (2, 4), (5, 3, 4), (5,)).named("2d_bias"),
               Sample((2, 2, 3), (2, 2, 4), (5, 3, 4)).named("3d_no_bias"),
               Sample(NonContig((2, 3)), (2, 4), (2, 3, 4), (2,)).named("noncontig"),
           ],
           errors=[
               ErrorInput(Sample((2, 3), (2, 4), (5, 4, 4)), RuntimeError, r"input1 size does not match weight size"),
               ErrorInput(Sample((2, 3), (3, 4), (5, 3, 4)), RuntimeError, r"batch dimensions do not match"),
           ]),
]

OPS += [low_precision(info) for info in OPS if info.name in ("nn.functional.linear", "nn.functional.bilinear")]
