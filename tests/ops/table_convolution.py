"""Op table entries: convolutions and patch extraction (ember/ops/convolution.py).

Tuples inside a Sample are tensor shapes, so tuple-valued arguments (kernel sizes, strides...) are passed as
keywords or wrapped in ``Raw``. Gradcheck samples are kept tiny: numeric gradcheck costs two forwards per
input element. ``HALF``, ``variant`` and ``functional`` serve the pooling and resampling tables too.
"""

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
