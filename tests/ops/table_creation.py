"""Op table entries: tensor creation (ember/ops/creation.py), compared value for value with PyTorch.

Creation ops mostly take numbers and sizes, passed as ``Raw`` so the harness does not turn them into
tensors; ``dtype`` is given by name and resolved in each library.
"""

import warnings

import numpy as np

from tests.ops.harness import ALL, FLOATS, ErrorInput, NonContig, OpInfo, Raw, Sample


def _with_dtype(name):
    """Call ``lib.<name>`` with ``dtype=`` given by name (e.g. "float16")."""
    def call(lib, *args, dtype=None, **kwargs):
        if dtype is not None:
            kwargs["dtype"] = getattr(lib, dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch.range's deprecation, torch.tensor(tensor)'s advice
            return getattr(lib, name)(*args, **kwargs)
    return call


def _sizes(*shape):
    return Raw(tuple(shape))


ARANGE_SAMPLES = [
    Sample(5), Sample(2, 9), Sample(10, 0, -3), Sample(0, 1, 0.1).named("0_1_0.1"), Sample(0, 10, 0.3),
    Sample(-3, 3, 0.7), Sample(1.5, 100.1, 0.37).named("long_float"), Sample(-1, 1, 0.001).named("2000_steps"),
    Sample(0, 1000, 0.7), Sample(0, 5, 1 / 3), Sample(0.5, 3), Sample(0, 0),
    Sample(0, 10, 0.37, dtype="float16"), Sample(0, 1, 0.1, dtype="bfloat16"), Sample(0, 2, 0.1, dtype="float64"),
    Sample(0, 5.5, 1.5, dtype="int64"), Sample(-2.7, 5.5, 1.5, dtype="int32"), Sample(10, 0.5, -3.5, dtype="int64"),
    Sample(6, dtype="uint8"), Sample(3, dtype="float32"),
]

LINSPACE_SAMPLES = [
    Sample(0, 1, 5), Sample(0, 1, 11), Sample(0, 1, 10), Sample(-3, 7, 33), Sample(0.1, 0.9, 100),
    Sample(-5, 5, 1001), Sample(0, 1, 2), Sample(3, 3, 5), Sample(1, 0, 7), Sample(0, 1, 1), Sample(0, 1, 0),
    Sample(0, 1, 20000).named("20000_steps"), Sample(-2.5, 1e3, 77), Sample(0, 1, 10, dtype="float64"),
    Sample(0.1, 0.9, 100, dtype="float64"), Sample(-1, 1, 7, dtype="float16"), Sample(-1, 1, 7, dtype="bfloat16"),
    Sample(0.3, 17, 53, dtype="bfloat16"), Sample(0.3, 17, 53, dtype="float16"), Sample(0, 10, 5, dtype="int64"),
    Sample(-7, 10, 9, dtype="int32"), Sample(0, 1, 5, dtype="int64"),
]

OPS = [
    OpInfo("arange", fn=_with_dtype("arange"), samples=ARANGE_SAMPLES, grad=False, errors=[
        ErrorInput(Sample(0, 5, 0), RuntimeError, "step must be nonzero"),
        ErrorInput(Sample(5, 0), RuntimeError, "inconsistent with step sign"),
        ErrorInput(Sample(float("inf")), RuntimeError, "unsupported range"),
        ErrorInput(Sample(3, dtype="bool"), NotImplementedError, "not implemented for 'Bool'"),
        ErrorInput(Sample(0, 1, 0.25, dtype="int64"), ValueError, "step must be nonzero"),
    ]),
    OpInfo("linspace", fn=_with_dtype("linspace"), samples=LINSPACE_SAMPLES, grad=False, errors=[
        ErrorInput(Sample(0, 1, -1), RuntimeError, "number of steps must be non-negative"),
    ]),
    OpInfo("logspace", fn=_with_dtype("logspace"), grad=False, samples=[
        Sample(0, 2, 3), Sample(0, 2, 3, base=2), Sample(-2, 2, 9), Sample(-2, 2, 9, dtype="float64"),
        Sample(0, 1, 7, base=3.3), Sample(0, 2, 3, dtype="int64"), Sample(0, 3, 4, base=2, dtype="int32"),
        Sample(1, 1, 1), Sample(0, 1, 0),
    ]),
    OpInfo("zeros", fn=_with_dtype("zeros"), grad=False, samples=[
        Sample(2, 3), Sample(_sizes(2, 3)), Sample(Raw([2, 3])), Sample(_sizes()), Sample(0, 3),
        Sample(2, dtype="int32"), Sample(2, dtype="bool"), Sample(2, dtype="bfloat16"), Sample(size=(2, 1)),
    ], errors=[
        ErrorInput(Sample(2, -1), RuntimeError, "negative dimension"),
        ErrorInput(Sample(2.5), TypeError, "size must be a tuple of ints"),
    ]),
    OpInfo("ones", fn=_with_dtype("ones"), grad=False, samples=[
        Sample(2, 3), Sample(_sizes(4,)), Sample(2, dtype="float16"), Sample(3, dtype="uint8"), Sample(2, dtype="bool"),
    ]),
    OpInfo("full", fn=_with_dtype("full"), grad=False, samples=[
        Sample(_sizes(2,), 7), Sample(_sizes(2,), True), Sample(_sizes(2, 2), 1.5), Sample(_sizes(), 3),
        Sample(_sizes(2,), 3, dtype="float16"), Sample(_sizes(2,), -1, dtype="uint8"),
        Sample(_sizes(2,), 2.7, dtype="int64"), Sample(_sizes(2,), -0.0), Sample(Raw([3]), float("inf")),
    ], errors=[
        ErrorInput(Sample(_sizes(2,), 300, dtype="uint8"), RuntimeError, "without overflow"),
        ErrorInput(Sample(_sizes(2,), 1e10, dtype="float16"), RuntimeError, "without overflow"),
    ]),
    OpInfo("eye", fn=_with_dtype("eye"), grad=False, samples=[
        Sample(3), Sample(2, 3), Sample(3, 1, dtype="int32"), Sample(2, dtype="bool"), Sample(0),
    ], errors=[
        ErrorInput(Sample(-1), RuntimeError, "n must be greater or equal to 0"),
        ErrorInput(Sample(2, -1), RuntimeError, "m must be greater or equal to 0"),
    ]),
    OpInfo("tril_indices", fn=_with_dtype("tril_indices"), grad=False, samples=[
        Sample(3, 3), Sample(3, 4, 1), Sample(4, 2, 5), Sample(4, 3, -2), Sample(0, 3), Sample(3, 3, dtype="int32"),
    ], errors=[
        ErrorInput(Sample(-1, 3), RuntimeError, "row must be non-negative"),
        ErrorInput(Sample(3, 3, dtype="float32"), NotImplementedError, "not implemented for 'Float'"),
    ]),
    OpInfo("triu_indices", fn=_with_dtype("triu_indices"), grad=False, samples=[
        Sample(3, 3), Sample(3, 3, -1), Sample(4, 2, -5), Sample(2, 5, 2), Sample(3, 0),
    ]),
    OpInfo("zeros_like", fn=_with_dtype("zeros_like"), grad=False, dtypes=ALL,
           samples=[Sample((2, 3)), Sample(()), Sample((0, 2)), Sample((2,), dtype="int32")]),
    OpInfo("ones_like", fn=_with_dtype("ones_like"), grad=False, dtypes=ALL,
           samples=[Sample((2, 3)), Sample(NonContig((2, 3))), Sample((2,), dtype="float64")]),
    OpInfo("full_like", fn=_with_dtype("full_like"), grad=False, dtypes=ALL,
           samples=[Sample((2, 3), 1), Sample((2,), True), Sample((3,), 2.0, dtype="float16")]),
    OpInfo("empty_like.shape", fn=lambda lib, x: lib.empty_like(x).shape, grad=False, dtypes=ALL,
           samples=[Sample((2, 3)), Sample(())]),
    OpInfo("meshgrid", fn=lambda lib, *ts, **k: lib.meshgrid(*ts, **k), dtypes=FLOATS + ("int64",),
           gradgradcheck=True, samples=[
               Sample((2,), (3,), indexing="ij"), Sample((2,), (3,), indexing="xy"),
               Sample((2,), (3,), (4,), indexing="xy"), Sample((), (3,), indexing="ij"), Sample((3,), indexing="xy"),
           ], errors=[
               ErrorInput(Sample((2, 2), indexing="ij"), RuntimeError, "Expected 0D or 1D tensor"),
               ErrorInput(Sample((2,), indexing="foo"), RuntimeError, "indexing must be one of"),
           ]),
    OpInfo("tensor", fn=_with_dtype("tensor"), grad=False, samples=[
        Sample(Raw([[1, 2], [3, 4]])), Sample(Raw([1.5, 2])), Sample(Raw([True, 2])), Sample(Raw([True, 2.5])),
        Sample(Raw([])), Sample(Raw([[]])), Sample(Raw(3.5)), Sample(Raw(True)), Sample(Raw((1, 2))),
        Sample(Raw(range(3))), Sample(Raw(np.array([1.0, 2.0]))).named("float64_array"),
        Sample(Raw(np.array([1, 2], dtype=np.float16))).named("float16_array"), Sample(Raw(np.float64(1.5))),
        Sample(Raw([np.float64(1.0)])), Sample(Raw([np.int32(1)])), Sample(Raw([np.float16(1), 2])),
        Sample(Raw([1.5, 2]), dtype="int32"), Sample(Raw([-1]), dtype="uint8"), Sample(Raw([1.5, 2.5]), dtype="bfloat16"),
        Sample(Raw([1e10]), dtype="float16"), Sample(Raw([float("nan"), float("inf")])), Sample(Raw([1, 2 ** 40])),
        Sample(Raw([[1, 2], (3, 4)])), Sample(Raw([0.5]), dtype="bool"),
    ], errors=[
        ErrorInput(Sample(Raw([[1, 2], [3]])), ValueError, r"expected sequence of length 2 at dim 1 \(got 1\)"),
        ErrorInput(Sample(Raw([[[1, 2]], [[1]]])), ValueError, r"expected sequence of length 2 at dim 2 \(got 1\)"),
        ErrorInput(Sample(Raw([[1, 2], 3])), TypeError, "expected a sequence at dim 1"),
        ErrorInput(Sample(Raw(2 ** 63)), ValueError, "Overflow"),
        ErrorInput(Sample(Raw([1, 2 ** 63])), ValueError, "Overflow"),
        ErrorInput(Sample(Raw("a")), TypeError, "invalid data type 'str'"),
        ErrorInput(Sample(Raw(None)), RuntimeError, "Could not infer dtype of NoneType"),
        ErrorInput(Sample(Raw([300]), dtype="uint8"), RuntimeError, "without overflow"),
        ErrorInput(Sample(Raw([2 ** 31]), dtype="int32"), RuntimeError, "without overflow"),
        ErrorInput(Sample(Raw([1, 2]), requires_grad=True), RuntimeError, "floating point"),
    ]),
    OpInfo("tensor_from_tensor", fn=lambda lib, x: _with_dtype("tensor")(lib, x), grad=False, dtypes=ALL,
           samples=[Sample((2, 3)), Sample(NonContig((3, 2))), Sample(())]),
    OpInfo("as_tensor", fn=_with_dtype("as_tensor"), grad=False, samples=[
        Sample(Raw([1, 2])), Sample(Raw(np.array([1.0, 2.0]))), Sample(Raw(np.array([1, 2])), dtype="float32"),
    ]),
    OpInfo("scalar_tensor", fn=_with_dtype("scalar_tensor"), grad=False,
           samples=[Sample(2), Sample(2.5), Sample(3, dtype="int64")]),
    OpInfo("empty_strided.stride", fn=lambda lib, size, stride: lib.empty_strided(size, stride).stride(), grad=False,
           samples=[Sample(_sizes(2, 3), _sizes(1, 2)), Sample(_sizes(2, 3), _sizes(3, 1))]),
    OpInfo("range", fn=_with_dtype("range"), grad=False, samples=[Sample(1, 4), Sample(0, 1, 0.25)]),
]
