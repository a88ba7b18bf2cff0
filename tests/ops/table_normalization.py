"""Op table entries: normalization ops (ember/ops/normalization.py)."""

import numpy as np

from tests.ops.harness import FLOATS, ErrorInput, NonContig, OpInfo, Raw, Sample, T


def _stat(channels):
    return T((channels,), grad=False)


def _var(channels):
    return T((channels,), low=0.5, high=2.0, grad=False)


def _batch_norm(lib, x, running_mean, running_var, weight=None, bias=None, **kwargs):
    return lib.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, **kwargs)


def _batch_norm_with_stats(lib, x, running_mean, running_var, weight=None, bias=None, **kwargs):
    """The output and the running statistics after the in-place update, so both are compared.

    The update goes into fresh copies, so that every call (gradcheck makes many) starts from the same state.
    """
    if running_mean is None:
        return lib.nn.functional.batch_norm(x, None, None, weight, bias, **kwargs)
    running_mean, running_var = running_mean.clone(), running_var.clone()
    out = lib.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, **kwargs)
    return out, running_mean, running_var


def _instance_norm(lib, x, running_mean=None, running_var=None, *args, **kwargs):
    if running_mean is None:
        return lib.nn.functional.instance_norm(x, None, None, *args, **kwargs)
    running_mean, running_var = running_mean.clone(), running_var.clone()
    out = lib.nn.functional.instance_norm(x, running_mean, running_var, *args, **kwargs)
    return out, running_mean, running_var


BATCH_NORM_SHAPES = [
    Sample((4, 3), _stat(3), _var(3), (3,), (3,)).named("2d_affine"),
    Sample((4, 3, 5), _stat(3), _var(3), (3,), (3,)).named("3d_affine"),
    Sample((2, 3, 4, 4), _stat(3), _var(3)).named("4d_no_affine"),
    Sample((2, 2, 2, 3, 3), _stat(2), _var(2), (2,), None).named("5d_weight_only"),
    Sample(NonContig((4, 3)), _stat(3), _var(3), (3,), (3,)).named("noncontig"),
    Sample((3, 2, 4), _stat(2), _var(2), None, (2,), eps=1e-3).named("bias_only_eps"),
]

BATCH_NORM_TRAINING = [Sample(*s.args, **s.kwargs, training=True).named(s.name) for s in BATCH_NORM_SHAPES] + [
    Sample((4, 3), _stat(3), _var(3), (3,), (3,), training=True, momentum=0.5).named("momentum"),
    Sample((4, 3, 2), None, None, (3,), (3,), training=True).named("no_running_stats"),
]

OPS = [
    OpInfo("nn.functional.batch_norm", fn=_batch_norm, dtypes=FLOATS,
           samples=BATCH_NORM_SHAPES + [Sample((0, 3), _stat(3), _var(3), (3,), (3,)).named("empty")],
           gradgradcheck=True,
           errors=[
               ErrorInput(Sample((4, 3), _stat(4), _var(4)), RuntimeError, r"running_mean should contain 3 elements not 4"),
               ErrorInput(Sample((4, 3), _stat(3), _var(3), (4,)), RuntimeError, r"weight should contain 3 elements not 4"),
               ErrorInput(Sample((4, 3), None, None), RuntimeError, r"must be defined in evaluation mode"),
               ErrorInput(Sample((1, 3), _stat(3), _var(3), training=True), ValueError,
                          r"Expected more than 1 value per channel when training, got input size .*\[1, 3\]"),
               ErrorInput(Sample((4, 3), _stat(3), _var(3), momentum=None, training=True), TypeError, r"momentum"),
           ]),
    OpInfo("nn.functional.batch_norm_training", fn=_batch_norm, dtypes=FLOATS, gradgradcheck=True,
           samples=BATCH_NORM_TRAINING),
    OpInfo("nn.functional.batch_norm_running_stats", fn=_batch_norm_with_stats, dtypes=FLOATS, gradcheck=False,
           samples=BATCH_NORM_TRAINING),
    OpInfo("nn.functional.layer_norm", dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((2, 3, 4), Raw((4,)), (4,), (4,)).named("last_dim_affine"),
               Sample((2, 3, 4), Raw((3, 4)), (3, 4), (3, 4)).named("two_dims_affine"),
               Sample((2, 3, 4), Raw([2, 3, 4]), (2, 3, 4), (2, 3, 4)).named("three_dims_affine"),
               Sample((3, 5), Raw([5])).named("list_shape_no_affine"),
               Sample((3, 5), [5], (5,), None, eps=1e-3).named("weight_only_eps"),
               Sample((3, 5), Raw((5,)), None, (5,)).named("bias_only"),
               Sample(NonContig((4, 6)), Raw((6,)), (6,), (6,)).named("noncontig"),
               Sample((5,), Raw((5,)), (5,), (5,)).named("1d"),
               Sample((0, 4), Raw((4,)), (4,), (4,)).named("empty"),
           ],
           errors=[
               ErrorInput(Sample((4, 3), Raw((4,))), RuntimeError,
                          r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], but got input of size\[4, 3\]"),
               ErrorInput(Sample((4, 3), Raw((3,)), (4,)), RuntimeError,
                          r"Expected weight to be of same shape as normalized_shape, but got weight of shape \[4\] and "
                          r"normalized_shape = \[3\]"),
           ]),
    OpInfo("nn.functional.rms_norm", dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((2, 3, 4), Raw((4,)), (4,)).named("last_dim"),
               Sample((2, 3, 4), Raw((3, 4)), (3, 4), eps=1e-4).named("two_dims_eps"),
               Sample((3, 5), Raw((5,))).named("no_weight_default_eps"),
               Sample(NonContig((4, 6)), Raw((6,)), (6,)).named("noncontig"),
           ],
           errors=[ErrorInput(Sample((4, 3), Raw((4,))), RuntimeError, r"normalized_shape=\[4\].*\[4, 3\]")]),
    OpInfo("nn.functional.group_norm", dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((2, 6, 4), 3, (6,), (6,)).named("3d_affine"),
               Sample((2, 4, 3, 3), 2, (4,), (4,)).named("4d_affine"),
               Sample((3, 4), 1).named("one_group"),
               Sample((2, 4, 5), 4, (4,), None, eps=1e-3).named("group_per_channel"),
               Sample(NonContig((3, 6, 2)), 2, (6,), (6,)).named("noncontig"),
           ],
           errors=[
               ErrorInput(Sample((4, 6), 4), RuntimeError,
                          r"Expected number of channels in input to be divisible by num_groups, but got input of shape "
                          r"\[4, 6\] and num_groups=4"),
               ErrorInput(Sample((4, 6), 3, (3,)), RuntimeError, r"weight of shape \[3\] and input of shape \[4, 6\]"),
               ErrorInput(Sample((4,), 2), RuntimeError, r"at least 2 dimensions"),
           ]),
    OpInfo("nn.functional.instance_norm", dtypes=FLOATS, fn=_instance_norm,
           samples=[
               Sample((2, 3, 5)).named("no_stats"),
               Sample((2, 3, 4, 4), None, None, (3,), (3,)).named("affine"),
               Sample((2, 3, 5), None, None, (3,), (3,), use_input_stats=True).named("affine_kwarg"),
               Sample(NonContig((3, 4, 6)), None, None, None, None, True, 0.1, 1e-3).named("noncontig_eps"),
           ],
           gradgradcheck=True,
           errors=[ErrorInput(Sample((2, 3, 1)), ValueError, r"Expected more than 1 spatial element when training")]),
    OpInfo("nn.functional.instance_norm_running_stats", dtypes=FLOATS, fn=_instance_norm, gradcheck=False,
           samples=[
               Sample((2, 3, 5), _stat(3), _var(3), (3,), (3,)).named("running_stats"),
               Sample((2, 3, 5), _stat(3), _var(3), (3,), (3,), use_input_stats=False).named("use_running_stats"),
           ]),
    OpInfo("nn.functional.local_response_norm", dtypes=FLOATS,
           samples=[
               Sample((2, 5, 4), 3).named("3d"),
               Sample((2, 6, 3, 3), 2, alpha=0.1, beta=0.5, k=2.0).named("4d_kwargs"),
               Sample((1, 4, 2, 2, 2), 4).named("5d"),
               Sample((0, 4, 3), 3).named("empty"),
           ],
           gradgradcheck=True,
           errors=[ErrorInput(Sample((2, 5), 3), ValueError, r"Expected 3D or higher dimensionality input")]),
    OpInfo("nn.functional.normalize", dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((3, 4)).named("default"),
               Sample((3, 4), p=1.0, dim=0).named("p1_dim0"),
               Sample((2, 3, 4), p=3.0, dim=-1).named("p3_negative_dim"),
               Sample(NonContig((3, 4)), eps=1e-2).named("noncontig_eps"),
               Sample(np.zeros((2, 3), np.float64)).named("zeros"),
           ]),
]


def _low_precision(info):
    """The entry's samples in float16/bfloat16. PyTorch's CPU kernels round some intermediates (saved
    statistics, partial sums) to the low-precision dtype where Ember keeps float32, so results may differ by
    a few units in the last place: compared with a tolerance of 1e-2."""
    return OpInfo(info.name + "_low_precision", fn=info.fn, samples=info.samples, dtypes=("float16", "bfloat16"),
                  gradcheck=False, rtol=1e-2, atol=1e-2)


OPS += [_low_precision(info) for info in OPS if info.name != "nn.functional.local_response_norm"]
