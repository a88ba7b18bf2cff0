"""Op table entries: interpolation, channel rearrangement and grid sampling (ember/ops/resampling.py).

Tuples inside a Sample are tensor shapes, so tuple-valued arguments (sizes...) are passed as keywords or
wrapped in ``Raw``.
"""

from tests.ops.harness import FLOATS, ErrorInput, NonContig, OpInfo, Raw, Sample, T
from tests.ops.table_convolution import HALF, functional, variant

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
OPS = [
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
