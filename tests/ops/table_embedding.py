"""Op table entries: embeddings and one-hot encoding (ember/ops/embedding.py)."""

import numpy as np

from tests.ops.harness import FLOATS, Idx, T, ErrorInput, NonContig, OpInfo, Sample, low_precision


def _embedding(lib, indices, weight, **kwargs):
    return lib.nn.functional.embedding(indices, weight, **kwargs)


def _embedding_max_norm(lib, indices, weight, **kwargs):
    """The output and the weight after ``max_norm`` rescaled its looked-up rows in place."""
    out = lib.nn.functional.embedding(indices, weight, **kwargs)
    return out, weight.detach().clone()


def _embedding_bag(lib, indices, weight, *args, **kwargs):
    return lib.nn.functional.embedding_bag(indices, weight, *args, **kwargs)


OFFSETS = np.array([0, 2, 2, 5], dtype=np.int64)

OPS = [
    OpInfo("nn.functional.embedding", fn=_embedding, dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample(Idx((2, 3), 5), (5, 4)).named("2d_indices"),
               Sample(np.array([1, 0], dtype=np.int32), (2, 3)).named("int32_indices"),
               Sample(np.array(2), (3, 2)).named("0d_index"),
               Sample(np.zeros((0,), np.int64), (3, 2)).named("empty"),
               Sample(Idx((4,), 5), NonContig((5, 3))).named("noncontig_weight"),
           ],
           errors=[
               ErrorInput(Sample(np.array([0, 7]), (5, 4)), IndexError, r"index 7 is out of range.*5 rows"),
               ErrorInput(Sample(np.array([0, -1]), (5, 4)), IndexError, r"index -1 is out of range"),
               ErrorInput(Sample(T((2,)), (5, 4)), RuntimeError, r"Long, Int"),
               ErrorInput(Sample(np.array([0, 1]), (5, 4), padding_idx=5), AssertionError,
                          r"Padding_idx must be within num_embeddings"),
           ]),
    # Rows at padding_idx get no gradient and scale_grad_by_freq rescales it on purpose, so these gradients
    # are compared with PyTorch's but not checked numerically.
    OpInfo("nn.functional.embedding_padding", fn=_embedding, dtypes=FLOATS, gradcheck=False,
           samples=[
               Sample(Idx((6,), 4), (4, 3), padding_idx=1).named("padding_idx"),
               Sample(np.array([0, 3, 3, 1]), (4, 2), padding_idx=-1).named("negative_padding_idx"),
               Sample(np.array([[0, 2], [2, 2]]), (3, 2), scale_grad_by_freq=True).named("scale_grad_by_freq"),
               Sample(np.array([[0, 2], [2, 2], [1, 1]]), (3, 2), padding_idx=1, scale_grad_by_freq=True).named("both"),
           ]),
    OpInfo("nn.functional.embedding_max_norm", fn=_embedding_max_norm, dtypes=FLOATS, gradcheck=False,
           samples=[
               Sample(np.array([0, 2, 2]), (4, 3), max_norm=1.0).named("max_norm"),
               Sample(np.array([[1, 3]]), (4, 3), max_norm=1.5, norm_type=1.0).named("max_norm_p1"),
               Sample(np.array([1, 3]), (4, 3), padding_idx=1, max_norm=0.5).named("max_norm_padding"),
           ]),
    OpInfo("nn.functional.embedding_bag", fn=_embedding_bag, dtypes=FLOATS,
           samples=[
               Sample(Idx((3, 4), 6), (6, 5), mode="sum").named("2d_sum"),
               Sample(Idx((3, 4), 6), (6, 5)).named("2d_mean"),
               Sample(Idx((3, 4), 6), (6, 5), mode="max").named("2d_max"),
               Sample(Idx((7,), 6), (6, 3), OFFSETS, mode="sum").named("offsets_sum_empty_bag"),
               Sample(Idx((7,), 6), (6, 3), OFFSETS, mode="mean").named("offsets_mean"),
               Sample(Idx((7,), 6), (6, 3), OFFSETS, mode="max").named("offsets_max"),
               Sample(Idx((7,), 6), (6, 3), OFFSETS, None, 2, False, "sum", False, T((7,))).named("per_sample_weights"),
               Sample(Idx((7,), 6), (6, 3), np.array([0, 2, 2, 7]), include_last_offset=True).named("include_last_offset"),
               Sample(np.array([[0, 1, 1], [2, 1, 0]]), (3, 2), padding_idx=1).named("padding_idx"),
           ],
           errors=[
               ErrorInput(Sample(Idx((3, 4), 6), (6, 5), mode="prod"), ValueError, r"mode has to be one of sum, mean or max"),
               ErrorInput(Sample(Idx((4,), 6), (6, 5)), ValueError, r"offsets has to be a 1D Tensor but got None"),
               ErrorInput(Sample(Idx((4,), 6), (6, 5), np.array([0, 2]), None, 2, False, "mean", False, T((4,))),
                          NotImplementedError, r"only supported for mode='sum'"),
           ]),
    OpInfo("nn.functional.one_hot", grad=False,
           samples=[
               Sample(Idx((5,), 4)).named("inferred_classes"),
               Sample(Idx((2, 3), 4), 6).named("2d"),
               Sample(np.array(2), 3).named("0d"),
               Sample(np.zeros((0,), np.int64), 3).named("empty"),
           ],
           errors=[
               ErrorInput(Sample(np.array([0, -1]), 3), RuntimeError, r"Class values must be non-negative"),
               ErrorInput(Sample(np.array([0, 3]), 3), RuntimeError, r"Class values must be smaller than num_classes"),
               ErrorInput(Sample(T((2,))), RuntimeError, r"LongTensor"),
               ErrorInput(Sample(np.zeros((0,), np.int64)), RuntimeError, r"Can not infer total number of classes"),
           ]),
]

OPS += [low_precision(info) for info in OPS if info.name in ("nn.functional.embedding",)]
