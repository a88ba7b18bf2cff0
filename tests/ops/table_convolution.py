"""Op table entries: convolution, pooling and resampling (ember/ops/convolution.py).

Tuples inside a Sample are tensor shapes, so tuple-valued arguments (kernel sizes, strides...) are passed as
keywords or wrapped in ``Raw``. Gradcheck samples are kept tiny: numeric gradcheck costs two forwards per
input element.
"""

import numpy as np

from tests.ops.harness import FLOATS, ErrorInput, NonContig, OpInfo, Raw, Sample, T

HALF = ("float16", "bfloat16")


def variant(info, name):
    """A second table entry for the same op (e.g. half-precision forward with looser tolerances)."""
    info.variant = name
    return info


def functional(name):
    return f"nn.functional.{name}"


# ------------------------------------------------------------------------------------ convolution
CONV1D_SAMPLES = [
    Sample((2, 3, 7), (4, 3, 3), (4,)),
    Sample((1, 2, 8), (3, 2, 2), None, stride=2, padding=1, dilation=2).named("stride_pad_dilation"),
    Sample((1, 4, 6), (4, 2, 3), (4,), groups=2, padding="same").named("groups_same"),
    Sample((1, 2, 6), (2, 2, 4), padding="same").named("same_even_kernel"),
    Sample((1, 3, 6), (6, 1, 3), groups=3, padding="valid").named("depthwise_valid"),
    Sample((2, 5), (3, 2, 2)).named("unbatched"),
    Sample(NonContig((1, 2, 6)), (3, 2, 3)).named("noncontig"),
]
CONV2D_SAMPLES = [
    Sample((1, 2, 4, 4), (3, 2, 2, 2), (3,)),
    Sample((1, 2, 5, 4), (2, 2, 3, 2), None, stride=2, padding=1).named("stride_pad"),
    Sample((2, 3, 5, 5), (4, 3, 3, 3), (4,)).named("batch"),
    Sample((1, 2, 6, 5), (2, 2, 2, 2), dilation=(2, 1), padding=(1, 0), stride=(1, 2)).named("tuples"),
    Sample((1, 4, 4, 4), (4, 2, 3, 3), (4,), groups=2, padding=1).named("groups"),
    Sample((1, 3, 5, 5), (6, 1, 3, 3), groups=3, padding=1).named("depthwise"),
    Sample((1, 2, 5, 6), (3, 2, 2, 4), padding="same").named("same_even_kernel"),
    Sample((1, 2, 5, 5), (2, 2, 3, 3), padding="same", dilation=2).named("same_dilated"),
    Sample((1, 2, 4, 4), (3, 2, 1, 1), stride=[2]).named("pointwise_stride_list"),
    Sample((2, 4, 4), (3, 2, 3, 3), (3,)).named("unbatched"),
    Sample(NonContig((1, 2, 5, 4)), (3, 2, 3, 3)).named("noncontig"),
    Sample((0, 2, 4, 4), (3, 2, 3, 3)).named("empty_batch"),
]
CONV3D_SAMPLES = [
    Sample((1, 2, 3, 4, 3), (2, 2, 2, 2, 2), (2,)),
    Sample((1, 4, 4, 3, 3), (2, 2, 2, 1, 2), groups=2, padding=1, stride=(2, 1, 1)).named("groups_stride"),
    Sample((2, 3, 3, 3), (2, 2, 2, 2, 2), padding="same").named("unbatched_same"),
]
CONV2D_ERRORS = [
    ErrorInput(Sample((1, 2, 5, 5), (4, 3, 3, 3)), RuntimeError,
               r"weight of size \[4, 3, 3, 3\], expected input\[1, 2, 5, 5\] to have 3 channels, but got 2"),
    ErrorInput(Sample((1, 4, 5, 5), (3, 2, 3, 3), groups=2), RuntimeError,
               r"expected weight to be divisible by 2 at dimension 0, but got weight of size \[3, 2, 3, 3\]"),
    ErrorInput(Sample((1, 3, 5, 5), (4, 1, 3, 3), groups=2), RuntimeError, r"to have 2 channels, but got 3 channels"),
    ErrorInput(Sample((1, 3, 2, 2), (4, 3, 3, 3)), RuntimeError,
               r"padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel size can't be greater"),
    ErrorInput(Sample((1, 3, 5, 5), (4, 3, 3, 3), padding=-1), RuntimeError, r"negative padding is not supported"),
    ErrorInput(Sample((5, 5), (4, 3, 3, 3)), RuntimeError,
               r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[5, 5\]"),
    ErrorInput(Sample((1, 3, 5, 5), (4, 3, 3, 3), stride=2, padding="same"), RuntimeError,
               r"padding='same' is not supported for strided convolutions"),
    ErrorInput(Sample((1, 3, 5, 5), (4, 3, 3, 3), padding="full"), RuntimeError, r"Invalid padding string: 'full'"),
    ErrorInput(Sample((1, 3, 5, 5), (4, 3, 3, 3), (3,)), RuntimeError,
               r"expected bias to be 1-dimensional with 4 elements, but got bias of size \[3\]"),
    ErrorInput(Sample(T((1, 3, 5, 5), "float64"), (4, 3, 3, 3)), RuntimeError,
               r"expected scalar type Double but found Float"),
    ErrorInput(Sample((1, 3, 5, 5), (4, 3, 3, 3), stride=0), RuntimeError, r"non-positive stride is not supported"),
    ErrorInput(Sample((1, 3, 5, 5), (4, 3, 3, 3), groups=0), RuntimeError, r"non-positive groups is not supported"),
    ErrorInput(Sample((1, 3, 5, 5), (4, 3, 3, 3), stride=(1, 1, 1)), RuntimeError,
               r"expected stride to be a single integer value or a list of 2 values"),
]
CONV_TRANSPOSE2D_SAMPLES = [
    Sample((1, 2, 3, 3), (2, 3, 2, 2), (3,)),
    Sample((1, 2, 3, 2), (2, 2, 3, 2), stride=2, padding=1, output_padding=1).named("stride_output_padding"),
    Sample((1, 4, 3, 3), (4, 1, 2, 2), (2,), groups=2, stride=(1, 2)).named("groups"),
    Sample((1, 2, 3, 3), (2, 2, 2, 2), dilation=2, output_padding=1).named("dilation_output_padding"),
    Sample((2, 3, 3), (2, 2, 3, 3), padding=1).named("unbatched"),
    Sample(NonContig((1, 2, 3, 3)), (2, 2, 2, 2)).named("noncontig"),
]
CONV_TRANSPOSE_ERRORS = [
    ErrorInput(Sample((1, 2, 5, 5), (3, 4, 3, 3)), RuntimeError,
               r"Given transposed=1, weight of size \[3, 4, 3, 3\], expected input\[1, 2, 5, 5\] to have 3 channels"),
    ErrorInput(Sample((1, 3, 5, 5), (3, 4, 3, 3), stride=2, output_padding=2), RuntimeError,
               r"output padding must be smaller than either stride or dilation"),
    ErrorInput(Sample((1, 3, 2, 2), (3, 4, 3, 3), padding=3), RuntimeError, r"Output size is too small"),
]

OPS = [
    OpInfo(functional("conv1d"), samples=CONV1D_SAMPLES, dtypes=FLOATS, gradgradcheck=True,
           errors=[ErrorInput(Sample((1, 2, 3), (4, 2, 3), padding=-2), RuntimeError, r"negative padding"),
                   ErrorInput(Sample((1, 2, 5, 5), (4, 2, 3)), RuntimeError,
                              r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d")]),
    OpInfo(functional("conv2d"), samples=CONV2D_SAMPLES, dtypes=FLOATS, gradgradcheck=True, errors=CONV2D_ERRORS),
    variant(OpInfo(functional("conv2d"), samples=CONV2D_SAMPLES[:5], dtypes=HALF, grad=False, rtol=1e-2, atol=1e-2),
            "half"),
    variant(OpInfo(functional("conv2d"), samples=[Sample((1, 2, 4, 4), (3, 2, 2, 2), (3,)),
                                                  Sample((1, 4, 4, 4), (4, 2, 3, 3), groups=2, padding=1)],
                   dtypes=("int64",), grad=False), "int"),
    OpInfo(functional("conv3d"), samples=CONV3D_SAMPLES, dtypes=FLOATS,
           errors=[ErrorInput(Sample((2, 3, 3), (2, 2, 2, 2, 2)), RuntimeError,
                              r"Expected 4D \(unbatched\) or 5D \(batched\) input to conv3d")]),
    OpInfo("conv2d", samples=CONV2D_SAMPLES[:3], dtypes=("float32",)),
    OpInfo(functional("conv_transpose1d"), samples=[
        Sample((1, 2, 4), (2, 3, 3), (3,)),
        Sample((2, 4, 3), (4, 1, 2), groups=2, stride=3, padding=1, output_padding=2).named("groups_stride"),
        Sample((2, 4), (2, 2, 3), dilation=2).named("unbatched_dilation"),
    ], dtypes=FLOATS, gradgradcheck=True),
    OpInfo(functional("conv_transpose2d"), samples=CONV_TRANSPOSE2D_SAMPLES, dtypes=FLOATS, gradgradcheck=True,
           errors=CONV_TRANSPOSE_ERRORS),
    variant(OpInfo(functional("conv_transpose2d"), samples=CONV_TRANSPOSE2D_SAMPLES[:3], dtypes=HALF, grad=False,
                   rtol=1e-2, atol=1e-2), "half"),
    OpInfo(functional("conv_transpose3d"), samples=[
        Sample((1, 2, 2, 3, 2), (2, 2, 2, 2, 2), (2,), stride=2, padding=1, output_padding=1),
    ], dtypes=FLOATS),
]

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
OPS += [
    OpInfo(functional("max_pool2d"), samples=MAX_POOL2D_SAMPLES, dtypes=FLOATS, errors=POOL_ERRORS + [
        ErrorInput(Sample((5,), 2), RuntimeError, r"Expected 3D or 4D \(batch mode\) tensor"),
        ErrorInput(Sample((1, 2, 5, 5), 2, dilation=0), RuntimeError, r"dilation should be greater than zero")]),
    variant(OpInfo(functional("max_pool2d"), samples=MAX_POOL2D_SAMPLES[:6], dtypes=HALF + ("int64",), grad=False),
            "half_int"),
    OpInfo("max_pool2d", samples=[Sample((1, 2, 5, 5), 2), Sample((1, 2, 5, 5), 3, 2, 1, 1, True)], dtypes=FLOATS),
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

# ------------------------------------------------------------------------------------ unfold / fold
OPS += [
    OpInfo(functional("unfold"), samples=[
        Sample((1, 2, 4, 4), 2), Sample((1, 2, 5, 4), kernel_size=(3, 2), dilation=(1, 2), padding=1, stride=2),
        Sample((2, 4, 3), 2).named("unbatched"), Sample(NonContig((1, 2, 4, 3)), 2, 1, 1).named("noncontig"),
    ], dtypes=FLOATS, gradgradcheck=True, errors=[
        ErrorInput(Sample((1, 2, 5, 5), 6), RuntimeError, r"calculated shape of the array of sliding blocks as"),
        ErrorInput(Sample((1, 2, 5, 5), 2, padding=-1), RuntimeError, r"padding should be non-negative"),
        ErrorInput(Sample((1, 2, 5, 5), kernel_size=(2, 2, 2)), RuntimeError, r"It is expected kernel_size equals to 2"),
    ]),
    variant(OpInfo(functional("unfold"), samples=[Sample((1, 2, 4, 4), 2), Sample(NonContig((1, 2, 4, 3)), 2, 1, 1)],
                   dtypes=HALF, grad_rtol=2e-2, grad_atol=2e-2), "half"),
    OpInfo(functional("fold"), samples=[
        Sample((1, 8, 9), Raw((4, 4)), 2), Sample((2, 12, 9), Raw((5, 4)), kernel_size=(3, 2), padding=1, stride=2),
        Sample((8, 16), 5, 2).named("unbatched"),
    ], dtypes=FLOATS, gradgradcheck=True, errors=[
        ErrorInput(Sample((1, 7, 16), Raw((5, 5)), 2), RuntimeError, r"to be divisible by the product of kernel_size"),
        ErrorInput(Sample((1, 8, 15), Raw((5, 5)), 2), RuntimeError, r"to match the calculated number of sliding blocks"),
        ErrorInput(Sample((8,), Raw((5, 5)), 2), RuntimeError, r"Expected 2D or 3D \(batch mode\) tensor"),
    ]),
]

# ------------------------------------------------------------------------------------ interpolation
INTERPOLATE_SAMPLES = [
    Sample((1, 2, 3, 4), scale_factor=2, mode="bilinear", align_corners=False).named("bilinear_x2"),
    Sample((1, 2, 4, 3), size=(3, 5), mode="bilinear", align_corners=True).named("bilinear_size_corners"),
    Sample((1, 2, 5, 4), size=(3, 7), mode="bilinear").named("bilinear_mixed"),
    Sample((1, 2, 4, 5), scale_factor=(1.7, 0.6), mode="bilinear").named("bilinear_fractional_scale"),
    Sample((1, 2, 4, 5), scale_factor=1.7, mode="bilinear", recompute_scale_factor=True).named("recompute"),
    Sample((1, 2, 3, 4), scale_factor=2).named("nearest_x2"),
    Sample((1, 2, 5, 4), size=(3, 7)).named("nearest_size"),
    Sample((1, 2, 7, 5), scale_factor=(0.5, 1.3), mode="nearest").named("nearest_scale"),
    Sample((1, 2, 5, 4), size=(3, 7), mode="nearest-exact").named("nearest_exact"),
    Sample((1, 2, 5, 4), scale_factor=1.5, mode="nearest-exact").named("nearest_exact_scale"),
    Sample((1, 2, 4, 3), size=(6, 5), mode="bicubic").named("bicubic"),
    Sample((1, 2, 5, 5), scale_factor=0.6, mode="bicubic", align_corners=True).named("bicubic_corners"),
    Sample((1, 2, 5), size=8, mode="linear").named("linear"),
    Sample((1, 2, 5), scale_factor=0.7, mode="linear", align_corners=True).named("linear_corners"),
    Sample((1, 2, 3), scale_factor=3, mode="nearest").named("nearest_1d"),
    Sample((1, 1, 2, 3, 2), scale_factor=2, mode="trilinear").named("trilinear"),
    Sample((1, 1, 2, 3, 2), size=(3, 2, 4), mode="nearest").named("nearest_3d"),
    Sample((1, 2, 5, 7), size=(2, 3), mode="area").named("area"),
    Sample((1, 2, 6), scale_factor=0.5, mode="area").named("area_1d"),
    Sample(NonContig((1, 2, 3, 4)), scale_factor=2, mode="bilinear").named("noncontig"),
]
INTERPOLATE_ERRORS = [
    ErrorInput(Sample((1, 2, 3), size=2, mode="bilinear"), NotImplementedError, r"Got 3D input, but bilinear mode"),
    ErrorInput(Sample((1, 2, 3, 3), size=2, mode="nearest", align_corners=True), ValueError,
               r"align_corners option can only be set with the interpolating modes"),
    ErrorInput(Sample((1, 2, 3, 3), size=2, scale_factor=2), ValueError, r"only one of size or scale_factor"),
    ErrorInput(Sample((1, 2, 3, 3)), ValueError, r"either size or scale_factor should be defined"),
    ErrorInput(Sample((1, 2, 3, 3), size=(2, 2, 2)), ValueError, r"the same number of spatial dimensions"),
    ErrorInput(Sample((1, 2, 3, 3), scale_factor=0.1, mode="bilinear"), RuntimeError, r"should be greater than 0"),
    ErrorInput(Sample((1, 2, 3, 3), size=2, mode="cubic"), NotImplementedError, r"Input Error"),
    ErrorInput(Sample((1, 2, 3, 3), size=2, mode="bilinear", recompute_scale_factor=True), ValueError,
               r"recompute_scale_factor is not meaningful with an explicit size"),
]
OPS += [
    OpInfo(functional("interpolate"), samples=INTERPOLATE_SAMPLES, dtypes=FLOATS, gradgradcheck=True,
           errors=INTERPOLATE_ERRORS),
    variant(OpInfo(functional("interpolate"), samples=INTERPOLATE_SAMPLES[:1] + INTERPOLATE_SAMPLES[5:12],
                   dtypes=HALF, grad=False, rtol=1e-2, atol=1e-2), "half"),
    OpInfo(functional("upsample"), samples=[Sample((1, 2, 3, 3), scale_factor=2, mode="bilinear")], dtypes=FLOATS),
    OpInfo(functional("upsample_nearest"), samples=[Sample((1, 2, 3, 3), size=5)], dtypes=FLOATS),
    OpInfo(functional("upsample_bilinear"), samples=[Sample((1, 2, 3, 3), scale_factor=2)], dtypes=FLOATS),
]

# ------------------------------------------------------------------------------------ rearrangement
OPS += [
    OpInfo("pixel_shuffle", samples=[Sample((1, 8, 2, 3), 2), Sample((2, 1, 9, 2, 2), 3), Sample((4, 1, 2), 2)],
           dtypes=FLOATS + ("int64",), errors=[
               ErrorInput(Sample((5, 4, 4), 2), RuntimeError, r"divisible by the square of upscale_factor"),
               ErrorInput(Sample((4, 4), 2), RuntimeError, r"expects input to have at least 3 dimensions")]),
    OpInfo("pixel_unshuffle", samples=[Sample((1, 2, 4, 6), 2), Sample((3, 3, 3), 3)], dtypes=FLOATS,
           errors=[ErrorInput(Sample((4, 5, 4), 2), RuntimeError, r"expects height to be divisible")]),
    OpInfo(functional("pixel_shuffle"), samples=[Sample(NonContig((1, 4, 2, 3)), 2)], dtypes=FLOATS),
    OpInfo("channel_shuffle", samples=[Sample((1, 6, 2, 2), 3), Sample((2, 4, 3), 2)], dtypes=FLOATS,
           errors=[ErrorInput(Sample((1, 5, 4), 2), RuntimeError, r"Number of channels must be divisible by groups")]),
]

# ------------------------------------------------------------------------------------ grid sampling
GRID_SAMPLES = [
    Sample((1, 2, 3, 4), T((1, 2, 3, 2), low=-1.0, high=1.0), align_corners=False),
    Sample((2, 1, 4, 3), T((2, 3, 2, 2), low=-1.3, high=1.3), align_corners=True).named("corners_outside"),
    Sample((1, 2, 3, 4), T((1, 2, 2, 2), low=-1.4, high=1.4), padding_mode="border", align_corners=False).named("border"),
    Sample((1, 2, 3, 4), T((1, 2, 2, 2), low=-2.5, high=2.5), padding_mode="reflection", align_corners=False)
    .named("reflection"),
    Sample((1, 2, 3, 4), T((1, 2, 2, 2), low=-2.5, high=2.5), padding_mode="reflection", align_corners=True)
    .named("reflection_corners"),
    Sample((1, 2, 3, 4), T((1, 2, 3, 2), low=-1.2, high=1.2), mode="nearest", align_corners=False).named("nearest"),
]
OPS += [
    OpInfo(functional("grid_sample"), samples=GRID_SAMPLES, dtypes=FLOATS, errors=[
        ErrorInput(Sample((1, 2, 3, 3), (1, 2, 2, 2), mode="cubic"), ValueError, r"expected mode to be"),
        ErrorInput(Sample((1, 2, 3, 3), (1, 2, 2, 2), padding_mode="wrap"), ValueError, r"expected padding_mode to be"),
        ErrorInput(Sample((1, 2, 3, 3), (2, 2, 2, 2)), RuntimeError, r"expected grid and input to have same batch size"),
        ErrorInput(Sample((1, 2, 3, 3), (1, 2, 2, 3)), RuntimeError, r"expected grid to have size 2 in last dimension"),
    ]),
    variant(OpInfo(functional("grid_sample"), samples=GRID_SAMPLES[:3], dtypes=HALF, grad=False, rtol=2e-2, atol=5e-2),
            "half"),
    OpInfo(functional("affine_grid"), samples=[
        Sample((2, 2, 3), Raw((2, 3, 4, 5)), align_corners=False),
        Sample((1, 2, 3), Raw((1, 1, 3, 1)), align_corners=True).named("width_one"),
        Sample((1, 3, 4), Raw((1, 1, 2, 3, 2)), align_corners=True).named("3d"),
    ], dtypes=FLOATS, gradgradcheck=True, errors=[
        ErrorInput(Sample((1, 2, 2), Raw((1, 3, 4, 4)), align_corners=False), ValueError,
                   r"Expected a batch of 2D affine matrices of shape Nx2x3"),
        ErrorInput(Sample((1, 2, 3), Raw((1, 3, 4)), align_corners=False), NotImplementedError,
                   r"affine_grid only supports 4D and 5D sizes"),
        ErrorInput(Sample(T((1, 2, 3), "int64"), Raw((1, 3, 4, 4)), align_corners=False), ValueError,
                   r"Expected theta to have floating point type"),
    ]),
]
