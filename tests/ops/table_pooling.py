"""Op table entries: pooling (ember/ops/pooling.py).

Tuples inside a Sample are tensor shapes, so tuple-valued arguments (kernel sizes, strides...) are passed as
keywords or wrapped in ``Raw``.
"""

import numpy as np

from tests.ops.harness import FLOATS, ErrorInput, NonContig, OpInfo, Raw, Sample, T
from tests.ops.table_convolution import HALF, functional, variant

# ------------------------------------------------------------------------------------ pooling
TIES = np.array([[[[1.0, 1.0, -np.inf, 2.0], [0.5, 1.0, 2.0, 2.0], [-np.inf, -np.inf, 3.0, np.nan],
                   [-np.inf, -np.inf, 1.0, 3.0]]]], dtype=np.float32)
MAX_POOL2D_SAMPLES = [
    Sample((1, 2, 4, 4), 2),
    Sample((1, 2, 5, 5), 3, 2, 1).named("overlapping_padded"),
    Sample((2, 3, 6, 6), 2),
    Sample((1, 2, 7, 6), kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 1)).named("dilated"),
    Sample((1, 2, 7, 6), 2, ceil_mode=True).named("ceil"),
    Sample((1, 2, 8, 7), 3, 2, 1, ceil_mode=True, return_indices=True).named("ceil_padded_indices"),
    Sample((1, 2, 4, 5), 2, return_indices=True).named("indices"),
    Sample((2, 5, 5), 2, 1).named("unbatched"),
    Sample(NonContig((1, 2, 4, 4)), 2).named("noncontig"),
    Sample(TIES, 2, 1, 1, return_indices=True).named("ties_inf_nan"),
]
POOL_ERRORS = [
    ErrorInput(Sample((1, 2, 5, 5), 3, padding=2), RuntimeError, r"pad should be at most half of effective kernel size"),
    ErrorInput(Sample((1, 2, 5, 5), 6), RuntimeError, r"Output size is too small"),
    ErrorInput(Sample((1, 2, 5, 5), 2, stride=0), RuntimeError, r"stride should not be zero"),
    ErrorInput(Sample((1, 2, 5, 5), 2, padding=-1), RuntimeError, r"pad must be non-negative"),
]
AVG_POOL2D_SAMPLES = [
    Sample((1, 2, 4, 4), 2),
    Sample((1, 2, 5, 5), 3, 2, 1).named("padded"),
    Sample((1, 2, 5, 5), 3, 2, 1, count_include_pad=False).named("exclude_pad"),
    Sample((1, 2, 6, 5), 3, 2, 1, ceil_mode=True).named("ceil"),
    Sample((1, 2, 6, 5), 3, 2, 1, ceil_mode=True, count_include_pad=False).named("ceil_exclude_pad"),
    Sample((1, 2, 5, 5), kernel_size=(3, 2), stride=(1, 2), padding=(1, 1), divisor_override=3).named("divisor"),
    Sample((2, 5, 5), 2).named("unbatched"),
    Sample(NonContig((1, 2, 4, 4)), 2, 1).named("noncontig"),
]
OPS = [
    OpInfo(functional("max_pool2d"), samples=MAX_POOL2D_SAMPLES, dtypes=FLOATS, errors=POOL_ERRORS + [
        ErrorInput(Sample((5,), 2), RuntimeError, r"Expected 3D or 4D \(batch mode\) tensor"),
        ErrorInput(Sample((1, 2, 5, 5), 2, dilation=0), RuntimeError, r"dilation should be greater than zero")]),
    variant(OpInfo(functional("max_pool2d"), samples=MAX_POOL2D_SAMPLES[:6], dtypes=HALF + ("int64",), grad=False),
            "half_int"),
    OpInfo("max_pool2d", samples=[Sample((1, 2, 5, 5), 2), Sample((1, 2, 5, 5), 3, 2, 1, 1, True)], dtypes=FLOATS,
           gradgradcheck=True),
    OpInfo(functional("max_pool1d"), samples=[
        Sample((1, 2, 7), 2), Sample((1, 2, 7), 3, 2, 1, ceil_mode=True, return_indices=True),
        Sample((2, 9), 3, 2, 1, dilation=2).named("unbatched_dilated"),
    ], dtypes=FLOATS + HALF, errors=[ErrorInput(Sample((3, 2, 5), 2, padding=2), RuntimeError, r"pad should be at most")]),
    OpInfo("max_pool1d", samples=[Sample((1, 2, 7), 3, 2, 1, 1, True)], dtypes=("float32",)),
    OpInfo("max_pool1d_with_indices", samples=[Sample((1, 2, 7), 2), Sample((2, 7), 3, 2, 1)], dtypes=FLOATS),
    OpInfo(functional("max_pool3d"), samples=[
        Sample((1, 2, 4, 4, 3), 2), Sample((1, 1, 5, 4, 4), 3, 2, 1, ceil_mode=True, return_indices=True),
        Sample((1, 4, 4, 4), kernel_size=(2, 1, 2), stride=1, dilation=(1, 2, 1)).named("unbatched"),
    ], dtypes=FLOATS),
    OpInfo(functional("avg_pool2d"), samples=AVG_POOL2D_SAMPLES, dtypes=FLOATS, gradgradcheck=True,
           errors=POOL_ERRORS + [ErrorInput(Sample((1, 2, 5, 5), 2, divisor_override=0), RuntimeError,
                                            r"divisor must be not zero")]),
    variant(OpInfo(functional("avg_pool2d"), samples=AVG_POOL2D_SAMPLES[:6], dtypes=HALF, grad=False, rtol=1e-2,
                   atol=1e-2), "half"),
    variant(OpInfo(functional("avg_pool2d"), samples=[Sample(T((1, 2, 5, 5), low=-9, high=9), 2),
                                                      Sample(T((1, 2, 5, 5), low=-9, high=9), 3, 2, 1)],
                   dtypes=("int64",), grad=False), "int"),
    OpInfo(functional("avg_pool1d"), samples=[
        Sample((1, 2, 7), 2), Sample((1, 2, 7), 3, 2, 1, ceil_mode=True, count_include_pad=False),
        Sample((2, 6), 3, 1, 1).named("unbatched"),
    ], dtypes=FLOATS, gradgradcheck=True),
    OpInfo("avg_pool1d", samples=[Sample((1, 2, 7), 3, 2, 1, True, False)], dtypes=("float32",)),
    OpInfo(functional("avg_pool3d"), samples=[
        Sample((1, 2, 4, 4, 3), 2), Sample((1, 1, 5, 4, 4), 3, 2, 1, ceil_mode=True, count_include_pad=False),
        Sample((1, 1, 3, 4, 4), 2, divisor_override=2),
    ], dtypes=FLOATS),
    OpInfo(functional("lp_pool2d"), samples=[
        Sample((1, 2, 4, 4), 2, 2), Sample((1, 2, 5, 5), 3, 3, 2, ceil_mode=True),
        Sample((1, 2, 4, 4), float("inf"), 2).named("inf"),
    ], dtypes=FLOATS, low=0.2, high=2.0),
    OpInfo(functional("lp_pool1d"), samples=[Sample((1, 2, 6), 2, 2), Sample((1, 2, 7), 1.5, 3, 2)], dtypes=FLOATS,
           low=0.2, high=2.0),
]

ADAPTIVE2D_SAMPLES = [
    Sample((1, 2, 4, 4), 2),
    Sample((1, 2, 5, 7), Raw((3, 4))).named("uneven"),
    Sample((1, 2, 5, 7), Raw((None, 2))).named("none_entry"),
    Sample((2, 6, 5), 1).named("unbatched_global"),
    Sample(NonContig((1, 2, 5, 4)), Raw((4, 3))).named("noncontig_upsize"),
]
OPS += [
    OpInfo(functional("adaptive_avg_pool2d"), samples=ADAPTIVE2D_SAMPLES, dtypes=FLOATS, gradgradcheck=True,
           errors=[ErrorInput(Sample((1, 2, 5, 5), Raw((2,))), RuntimeError, r"output_size must be 2"),
                   ErrorInput(Sample((5,), 2), RuntimeError, r"Expected 3D or 4D tensor")]),
    variant(OpInfo(functional("adaptive_avg_pool2d"), samples=ADAPTIVE2D_SAMPLES[:3], dtypes=HALF, grad=False,
                   rtol=1e-2, atol=1e-2), "half"),
    OpInfo(functional("adaptive_avg_pool1d"), samples=[Sample((1, 2, 7), 3), Sample((2, 5), 5), Sample((1, 2, 3), 5)],
           dtypes=FLOATS),
    OpInfo("adaptive_avg_pool1d", samples=[Sample((1, 2, 7), 3)], dtypes=("float32",)),
    OpInfo(functional("adaptive_avg_pool3d"), samples=[Sample((1, 2, 3, 5, 4), Raw((2, 3, 2)))], dtypes=FLOATS),
    OpInfo(functional("adaptive_max_pool2d"), samples=[
        Sample((1, 2, 4, 4), 2), Sample((1, 2, 5, 7), Raw((3, 4)), return_indices=True),
        Sample((2, 5, 7), Raw((None, 3)), True), Sample((1, 2, 3, 3), 5, return_indices=True).named("upsize"),
    ], dtypes=FLOATS),
    variant(OpInfo(functional("adaptive_max_pool2d"), samples=[Sample((1, 2, 5, 7), Raw((3, 4)), return_indices=True)],
                   dtypes=HALF, grad=False), "half"),
    OpInfo(functional("adaptive_max_pool1d"), samples=[Sample((1, 2, 7), 3, return_indices=True), Sample((2, 6), 4)],
           dtypes=FLOATS),
    OpInfo(functional("adaptive_max_pool3d"), samples=[Sample((1, 1, 3, 5, 4), Raw((2, 3, 2)), return_indices=True)],
           dtypes=FLOATS),
    OpInfo(functional("max_unpool2d"),
           fn=lambda lib, x, **k: lib.nn.functional.max_unpool2d(*lib.nn.functional.max_pool2d(x, 2, return_indices=True),
                                                                 2, **k),
           samples=[Sample((1, 2, 4, 4)), Sample((1, 2, 5, 5), output_size=(5, 5)).named("output_size"),
                    Sample((2, 4, 4)).named("unbatched")], dtypes=FLOATS),
    OpInfo(functional("max_unpool1d"),
           fn=lambda lib, x: lib.nn.functional.max_unpool1d(*lib.nn.functional.max_pool1d(x, 2, 2, 1, return_indices=True),
                                                            2, 2, 1),
           samples=[Sample((1, 2, 7))], dtypes=FLOATS),
]
