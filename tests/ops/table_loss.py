"""Op table entries: loss functions (ember/ops/loss.py)."""

import numpy as np

from tests.ops.harness import FLOATS, Idx, T, ErrorInput, NonContig, OpInfo, Sample


def F(name):
    return lambda lib, *a, **k: getattr(lib.nn.functional, name)(*a, **k)


def weighted(name, keyword="weight"):
    """The loss with an optional third positional sample argument passed as ``keyword`` (the harness builds
    tensors only from positional sample arguments)."""
    def fn(lib, x, t, w=None, **k):
        if w is not None:
            k[keyword] = w
        return getattr(lib.nn.functional, name)(x, t, **k)
    return fn


def bce_logits(lib, x, t, w=None, pw=None, **k):
    return lib.nn.functional.binary_cross_entropy_with_logits(x, t, w, pos_weight=pw, **k)


REDUCTIONS = ("mean", "sum", "none")
NO_GRAD = dict(grad=False)


def with_reductions(samples):
    return [Sample(*s.args, **s.kwargs, reduction=r).named(f"{s!r}-{r}") for s in samples for r in REDUCTIONS]


def signs(shape):
    """A fixed +-1 target (margin and embedding losses)."""
    return np.where(np.arange(int(np.prod(shape))).reshape(shape) % 3 == 0, -1.0, 1.0).astype(np.float32)


def signs64(shape):
    return signs(shape).astype(np.int64)


REGRESSION = with_reductions([Sample((3, 4), (3, 4)), Sample((2, 3, 4), T((2, 3, 4), grad=False))]) + [
    Sample((), ()).named("zero_dim"),
    Sample((0, 3), (0, 3), reduction="sum").named("empty_sum"),
    Sample(NonContig((3, 5)), (3, 5)).named("noncontig"),
    Sample((3, 4), (3, 4), size_average=False).named("legacy_size_average"),
    Sample((3, 4), (3, 4), reduce=False).named("legacy_reduce"),
]
REGRESSION_ERRORS = [
    ErrorInput(Sample((3, 4), (2, 4)), RuntimeError, "cannot be broadcast"),
    ErrorInput(Sample((3, 4), (3, 4), reduction="avg"), ValueError, "is not a valid value for reduction"),
]

CE_SAMPLES = [
    *with_reductions([Sample((4, 5), Idx((4,), 5))]),
    Sample((4, 5), Idx((4,), 5), T((5,), low=0.1, high=2, grad=False)).named("weight"),
    Sample((4, 5), Idx((4,), 5), T((5,), low=0.1, high=2, grad=False), reduction="sum").named("weight_sum"),
    Sample((4, 5), np.array([0, 2, -100, 4]), reduction="mean").named("ignore_default"),
    Sample((4, 5), np.array([0, 2, 1, 1]), ignore_index=1).named("ignore_index"),
    Sample((4, 5), np.array([0, 2, 1, 1]), ignore_index=1, reduction="none").named("ignore_none"),
    Sample((4, 5), Idx((4,), 5), label_smoothing=0.2).named("smoothing"),
    Sample((4, 5), np.array([0, 2, 1, 3]), T((5,), low=0.1, high=2, grad=False), label_smoothing=0.1,
           ignore_index=1).named("smoothing_weight_ignore"),
    Sample((4, 5), np.array([0, 2, 1, 3]), label_smoothing=0.3, ignore_index=2, reduction="none").named("smooth_none"),
    Sample((4, 5), np.array([0, 2, 1, 3]), T((5,), low=0.1, high=2, grad=False), label_smoothing=0.3,
           reduction="sum").named("smooth_weight_sum"),
    Sample((2, 3, 4), Idx((2, 4), 3)).named("nd"),
    Sample((2, 3, 4, 2), Idx((2, 4, 2), 3), reduction="none").named("nd_none"),
    Sample((2, 3, 4, 2), Idx((2, 4, 2), 3), T((3,), low=0.5, high=1, grad=False), label_smoothing=0.1)
    .named("nd_smooth_weight"),
    Sample((5,), Idx((), 5)).named("unbatched"),
    Sample((5,), Idx((), 5), reduction="none").named("unbatched_none"),
    Sample((4, 5), T((4, 5), low=0, high=1, grad=False)).named("probs"),
    Sample((4, 5), T((4, 5), low=0, high=1)).named("probs_grad_target"),
    Sample((4, 5), T((4, 5), low=0, high=1), reduction="none").named("probs_none"),
    Sample((4, 5), T((4, 5), low=0, high=1), T((5,), low=0.1, high=2, grad=False), label_smoothing=0.2,
           reduction="sum").named("probs_smooth_weight"),
    Sample((2, 3, 4), T((2, 3, 4), low=0, high=1), reduction="mean").named("probs_nd"),
    Sample((0, 5), Idx((0,), 5), reduction="sum").named("empty_sum"),
    Sample(NonContig((5, 4)), Idx((5,), 4)).named("noncontig"),
    Sample((4, 5), Idx((4,), 5), size_average=False).named("legacy"),
]
CE_ERRORS = [
    ErrorInput(Sample((3, 4), np.array([0, 5, 1])), IndexError, "Target 5 is out of bounds."),
    ErrorInput(Sample((3, 4), np.array([0, -1, 1])), IndexError, "Target -1 is out of bounds."),
    ErrorInput(Sample((3, 4), np.array([0, 1])), ValueError, r"Expected input batch_size \(3\) to match target "
               r"batch_size \(2\)"),
    ErrorInput(Sample((3, 4), np.array([0.0, 1.0, 1.0], dtype=np.float32)), RuntimeError,
               "expected target dtype to be Long or Byte, but got Float"),
    ErrorInput(Sample((3, 4), np.array([0, 1, 1], dtype=np.int32)), RuntimeError,
               "expected target dtype to be Long or Byte, but got Int"),
    ErrorInput(Sample((3, 4), Idx((3, 5), 4)), RuntimeError, "multi-target not supported"),
    ErrorInput(Sample((2, 3, 4), Idx((2, 5), 3)), RuntimeError, r"Expected target size \[2, 4\], got \[2, 5\]"),
    ErrorInput(Sample((3, 4), Idx((3,), 4), T((3,), grad=False)), RuntimeError,
               "weight tensor should be defined either for all 4 classes"),
    ErrorInput(Sample((3, 4), Idx((3,), 4), label_smoothing=1.5), RuntimeError, "label_smoothing must be between"),
    ErrorInput(Sample((3, 4), Idx((3,), 4), reduction="foo"), ValueError, "foo is not a valid value for reduction"),
]

NLL_SAMPLES = [
    *with_reductions([Sample((4, 5), Idx((4,), 5))]),
    Sample((4, 5), Idx((4,), 5), T((5,), low=0.1, high=2, grad=False)).named("weight"),
    Sample((4, 5), np.array([0, 2, 1, 1]), T((5,), low=0.1, high=2, grad=False), ignore_index=1,
           reduction="none").named("ignore_weight_none"),
    Sample((4, 5), np.array([0, 2, 1, 1]), ignore_index=1).named("ignore"),
    Sample((2, 3, 4, 2), Idx((2, 4, 2), 3)).named("nd"),
    Sample((5,), Idx((), 5)).named("unbatched"),
]

BCE_SAMPLES = with_reductions([Sample(T((3, 4), low=0.02, high=0.98), T((3, 4), low=0, high=1))]) + [
    Sample(T((3, 4), low=0.02, high=0.98), T((3, 4), low=0, high=1, grad=False),
           T((4,), low=0.1, high=2, grad=False)).named("weight"),
    Sample(np.array([0.0, 1.0, 0.5], dtype=np.float32), np.array([1.0, 0.0, 0.5], dtype=np.float32))
    .named("log_clamp"),
    Sample(T((), low=0.1, high=0.9), T((), low=0, high=1)).named("zero_dim"),
]
BCE_LOGITS_SAMPLES = with_reductions([Sample((3, 4), T((3, 4), low=0, high=1))]) + [
    Sample((3, 4), T((3, 4), low=0, high=1, grad=False), T((3, 4), low=0.1, high=2, grad=False))
    .named("weight"),
    Sample((3, 4), T((3, 4), low=0, high=1), None, T((4,), low=0.1, high=3, grad=False)).named("pos_weight"),
    Sample((3, 4), T((3, 4), low=0, high=1), T((4,), low=0.1, high=2, grad=False),
           T((4,), low=0.1, high=3, grad=False), reduction="sum").named("both_weights"),
    Sample(T((6,), low=-120, high=120), T((6,), low=0, high=1)).named("large_logits"),
    Sample((), ()).named("zero_dim"),
]

MARGIN_SAMPLES = with_reductions([Sample((6,), (6,), signs((6,)))]) + [
    Sample((6,), (6,), signs((6,)), margin=0.5).named("margin"),
    Sample((2, 3), (2, 3), signs((2, 3)), 0.2).named("2d"),
]

OPS = [
    OpInfo("nn.functional.mse_loss", fn=weighted("mse_loss"), samples=REGRESSION + [
        Sample((3, 4), (3, 4), T((3, 4), low=0.1, high=1, grad=False)).named("weight"),
        Sample((3, 4), T((4,), grad=False)).named("broadcast_warns")],
        dtypes=FLOATS + ("float16", "bfloat16"), gradgradcheck=True, errors=REGRESSION_ERRORS + [
        ErrorInput(Sample((3, 4), (3, 4), T((4,), grad=False)), ValueError, "Weights and input must have "
                   "the same size")]),
    OpInfo("mse_loss_int_target", fn=lambda lib, x, t: lib.nn.functional.mse_loss(x, t),
           samples=[Sample((3, 4), T((3, 4), "int64"))]),
    OpInfo("nn.functional.l1_loss", fn=weighted("l1_loss"), samples=REGRESSION + [
        Sample((3, 4), (3, 4), T((3, 4), low=0.1, high=1, grad=False), reduction="sum").named("weight")],
        dtypes=FLOATS, errors=REGRESSION_ERRORS),
    OpInfo("nn.functional.smooth_l1_loss", fn=F("smooth_l1_loss"), samples=REGRESSION + [
        Sample((3, 4), (3, 4), beta=0.5).named("beta"), Sample((3, 4), (3, 4), beta=0.0).named("beta0")],
        dtypes=FLOATS, gradgradcheck=True, errors=REGRESSION_ERRORS),
    OpInfo("nn.functional.huber_loss", fn=weighted("huber_loss"), samples=with_reductions([Sample((3, 4), (3, 4))]) + [
        Sample((3, 4), (3, 4), delta=0.5).named("delta"), Sample((), (), delta=2.0).named("zero_dim"),
        Sample((3, 4), (3, 4), T((3, 4), low=0.1, high=1, grad=False)).named("weight")],
        dtypes=FLOATS, gradgradcheck=True),
    OpInfo("nn.functional.binary_cross_entropy", fn=weighted("binary_cross_entropy"), samples=BCE_SAMPLES, dtypes=FLOATS,
           gradcheck_eps=1e-7, errors=[
               ErrorInput(Sample(T((3,), low=0, high=1), T((4,), low=0, high=1)), ValueError,
                          "different to the input size"),
               ErrorInput(Sample(T((3,), low=1.5, high=2), T((3,), low=0, high=1)), RuntimeError,
                          "all elements of input should be between 0 and 1"),
               ErrorInput(Sample(T((3,), low=0, high=1), T((3,), low=2, high=3)), RuntimeError,
                          "all elements of target should be between 0 and 1")]),
    OpInfo("nn.functional.binary_cross_entropy_with_logits", fn=bce_logits,
           samples=BCE_LOGITS_SAMPLES, dtypes=FLOATS, gradgradcheck=True, errors=[
               ErrorInput(Sample((3,), (4,)), ValueError, "must be the same as input size")]),
    # Top-level names take PyTorch's ATen signature: the reduction enum positionally (0 none, 1 mean, 2 sum).
    OpInfo("binary_cross_entropy_with_logits_top", fn=lambda lib, x, t, pw, r: lib.binary_cross_entropy_with_logits(
        x, t, None, pw, r), samples=[Sample((3, 4), T((3, 4), low=0, high=1, grad=False), T((4,), low=0.5, high=2,
                                                                                         grad=False), r)
                                     for r in (0, 1, 2)]),
    OpInfo("kl_div_top", fn=lambda lib, x, t: lib.kl_div(x, t, 2, log_target=True), samples=[Sample((3, 4), (3, 4))]),
    OpInfo("margin_ranking_loss_top", fn=lambda lib, a, b, t: lib.margin_ranking_loss(a, b, t, 0.1, 1),
           samples=[Sample((6,), (6,), signs((6,)))]),
    OpInfo("hinge_embedding_loss_top", fn=lambda lib, a, t: lib.hinge_embedding_loss(a, t, 0.5, 0),
           samples=[Sample((6,), signs((6,)))]),
    OpInfo("poisson_nll_loss_top", fn=lambda lib, a, t: lib.poisson_nll_loss(a, t, True, False, 1e-8, 2),
           samples=[Sample((3, 4), T((3, 4), low=0, high=3))]),
    OpInfo("triplet_margin_loss_top", fn=lambda lib, a, p, n: lib.triplet_margin_loss(a, p, n, 1.0, 2.0, 1e-6, True, 2),
           samples=[Sample((3, 5), (3, 5), (3, 5))]),
    OpInfo("cosine_embedding_loss_top", fn=lambda lib, a, b, t: lib.cosine_embedding_loss(a, b, t, 0.1, 0),
           samples=[Sample((4, 5), (4, 5), signs64((4,)))]),
    OpInfo("nn.functional.cross_entropy", fn=weighted("cross_entropy"), samples=CE_SAMPLES, dtypes=FLOATS,
           gradgradcheck=True, errors=CE_ERRORS),
    OpInfo("nn.functional.cross_entropy_half", fn=weighted("cross_entropy"), samples=CE_SAMPLES[:8],
           dtypes=("float16", "bfloat16"), gradcheck=False, atol=2e-3, rtol=2e-2),
    OpInfo("cross_entropy_gradgrad_smoothing", fn=weighted("cross_entropy"), gradgradcheck=True, samples=[
        Sample((4, 5), np.array([0, 2, 1, 3]), T((5,), low=0.1, high=2, grad=False), label_smoothing=0.1,
               ignore_index=1),
        Sample((4, 5), T((4, 5), low=0, high=1), T((5,), low=0.1, high=2, grad=False), label_smoothing=0.2,
               reduction="none")]),
    OpInfo("nn.functional.nll_loss", fn=weighted("nll_loss"), samples=NLL_SAMPLES, dtypes=FLOATS, gradgradcheck=True,
           errors=CE_ERRORS[:2] + [ErrorInput(Sample((3, 4), Idx((3,), 4), T((3,), grad=False)), RuntimeError,
                                              "weight tensor should be defined either for all 4 classes")]),
    OpInfo("nn.functional.kl_div", fn=F("kl_div"), dtypes=FLOATS, samples=[
        Sample((3, 4), T((3, 4), low=0.01, high=1), reduction=r).named(r) for r in ("batchmean", "sum", "none")] + [
        Sample((3, 4), (3, 4), reduction="batchmean", log_target=True).named("log_target"),
        Sample((3, 4), T((3, 4), low=0.01, high=1), reduction="mean").named("mean_warns")],
        errors=[ErrorInput(Sample((3,), (3,), reduction="avg"), ValueError, "is not a valid value for reduction")]),
    OpInfo("nn.functional.margin_ranking_loss", fn=F("margin_ranking_loss"), samples=MARGIN_SAMPLES, dtypes=FLOATS,
           errors=[ErrorInput(Sample((3,), (3, 1), signs((3,))), RuntimeError, "should have same dimension")]),
    OpInfo("nn.functional.hinge_embedding_loss", fn=F("hinge_embedding_loss"), dtypes=FLOATS,
           samples=with_reductions([Sample((2, 3), signs((2, 3)))]) + [Sample((6,), signs((6,)), margin=0.5)]),
    OpInfo("nn.functional.soft_margin_loss", fn=F("soft_margin_loss"), dtypes=FLOATS,
           samples=with_reductions([Sample((2, 3), signs((2, 3)))])),
    OpInfo("nn.functional.multilabel_soft_margin_loss", fn=weighted("multilabel_soft_margin_loss"), dtypes=FLOATS,
           samples=with_reductions([Sample((3, 4), T((3, 4), low=0, high=1, grad=False))]) + [
               Sample((3, 4), T((3, 4), low=0, high=1, grad=False), T((4,), low=0.1, high=1, grad=False))
               .named("weight")]),
    OpInfo("nn.functional.multi_margin_loss", fn=weighted("multi_margin_loss"), dtypes=FLOATS,
           samples=with_reductions([Sample((3, 4), Idx((3,), 4))]) + [
               Sample((3, 4), Idx((3,), 4), p=2, margin=0.5).named("p2"),
               Sample((3, 4), Idx((3,), 4), T((4,), low=0.1, high=1, grad=False)).named("weight"),
               Sample((4,), Idx((1,), 4)).named("1d")]),
    OpInfo("nn.functional.multilabel_margin_loss", fn=F("multilabel_margin_loss"), dtypes=FLOATS,
           samples=with_reductions([Sample((2, 4), np.array([[3, 0, -1, 1], [1, 2, 3, 0]]))]) + [
               Sample((4,), np.array([2, -1, 0, 0])).named("1d")]),
    OpInfo("nn.functional.triplet_margin_loss", fn=F("triplet_margin_loss"), dtypes=FLOATS,
           samples=with_reductions([Sample((3, 5), (3, 5), (3, 5))]) + [
               Sample((3, 5), (3, 5), (3, 5), margin=2.0, p=1).named("p1"),
               Sample((3, 5), (3, 5), (3, 5), p=3, swap=True).named("p3_swap"),
               Sample((5,), (5,), (5,), swap=True).named("1d_swap")],
           errors=[ErrorInput(Sample((3, 5), (5,), (3, 5)), RuntimeError, "same number of dimensions")]),
    OpInfo("nn.functional.cosine_embedding_loss", fn=F("cosine_embedding_loss"), dtypes=FLOATS,
           samples=with_reductions([Sample((4, 5), (4, 5), signs64((4,)))]) + [
               Sample((5,), (5,), np.array(-1), margin=0.2).named("1d")]),
    OpInfo("nn.functional.poisson_nll_loss", fn=F("poisson_nll_loss"), dtypes=FLOATS,
           samples=with_reductions([Sample((3, 4), T((3, 4), low=0, high=3))]) + [
               Sample(T((3, 4), low=0.1, high=3), T((3, 4), low=0, high=3), log_input=False).named("linear"),
               Sample((3, 4), T((3, 4), low=0, high=3, grad=False), full=True).named("full")]),
    OpInfo("nn.functional.gaussian_nll_loss", fn=F("gaussian_nll_loss"), dtypes=FLOATS,
           samples=with_reductions([Sample((3, 4), (3, 4), T((3, 4), low=0.1, high=2))]) + [
               Sample((3, 4), (3, 4), T((3,), low=0.1, high=2), full=True).named("var_per_row"),
               Sample((3, 4), (3, 4), T((3, 1), low=0.1, high=2)).named("heteroscedastic"),
               Sample((3, 4), (3, 4), 0.5).named("float_var")],
           errors=[ErrorInput(Sample((3, 4), (3, 4), T((2,), low=0.1, high=1)), ValueError, "var is of incorrect size"),
                   ErrorInput(Sample((3, 4), (3, 4), -1.0), ValueError, "var has negative entry")]),
    OpInfo("nn.functional.ctc_loss", fn=lambda lib, lp, t, **k: lib.nn.functional.ctc_loss(
        lp.log_softmax(2), t, [6, 5, 4], [3, 2, 0], **k), dtypes=FLOATS,
        samples=[Sample((6, 3, 4), Idx((3, 3), 4, low=1), reduction=r).named(r) for r in REDUCTIONS] + [
            Sample((6, 3, 4), np.array([1, 1, 2, 3, 3]), reduction="sum").named("concatenated_targets"),
            Sample((6, 3, 4), Idx((3, 3), 4, low=1), zero_infinity=True).named("zero_infinity")]),
    OpInfo("ctc_loss_repeats", fn=lambda lib, lp, t: lib.nn.functional.ctc_loss(lp.log_softmax(2), t, [5, 5], [3, 3]),
           dtypes=FLOATS, samples=[Sample((5, 2, 3), np.array([[1, 1, 2], [2, 2, 2]]))]),
]
