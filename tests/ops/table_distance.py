"""Op table entries: similarities and distances (ember/ops/distance.py)."""

import math

import numpy as np

from tests.ops.harness import FLOATS, Idx, ErrorInput, NonContig, OpInfo, Sample, low_precision

OPS = [
    OpInfo("nn.functional.cosine_similarity", dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((3, 4), (3, 4)).named("default_dim"),
               Sample((2, 1, 4), (3, 4), dim=-1).named("broadcast"),
               Sample((4,), (4,), dim=0).named("1d"),
               Sample(NonContig((3, 4)), (3, 4), dim=0, eps=1e-3).named("noncontig_eps"),
               Sample(np.zeros((2, 3)), (2, 3)).named("zero_vectors"),
           ],
           errors=[ErrorInput(Sample(Idx((2, 3), 4), Idx((2, 3), 4)), RuntimeError, r"floating point")]),
    OpInfo("nn.functional.pairwise_distance", dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((3, 4), (3, 4)).named("default"),
               Sample((4,), (4,)).named("1d"),
               Sample((3, 4), (4,), keepdim=True).named("broadcast_keepdim"),
               Sample((3, 4), (3, 4), p=1.0).named("p1"),
               Sample((3, 4), (3, 4), p=3.0, eps=1e-3).named("p3_eps"),
               Sample((2, 3), (2, 3), p=math.inf).named("p_inf"),
           ]),
    OpInfo("nn.functional.pdist", dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((4, 3)).named("default"),
               Sample((5, 2), 1.0).named("p1"),
               Sample((3, 4), p=3.0).named("p3"),
               Sample((1, 3)).named("one_row"),
           ],
           errors=[ErrorInput(Sample((2, 3, 4)), RuntimeError, r"pdist only supports 2D tensors, got: 3D")]),
    OpInfo("cdist", dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((3, 4), (5, 4)).named("2d"),
               Sample((2, 3, 4), (2, 5, 4)).named("batched"),
               Sample((2, 3, 4), (5, 4), p=1.0).named("broadcast_p1"),
               Sample((3, 2), (4, 2), p=3.0).named("p3"),
               Sample((3, 2), (4, 2), p=math.inf).named("p_inf"),
           ],
           errors=[ErrorInput(Sample((3, 4), (5, 3)), RuntimeError, r"X1 and X2 must have the same number of columns")]),
]

OPS += [low_precision(info) for info in OPS if info.name in ("nn.functional.cosine_similarity",)]
