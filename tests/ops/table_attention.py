"""Op table entries: scaled dot-product attention (ember/ops/attention.py)."""

from tests.ops.harness import FLOATS, Idx, Mask, T, ErrorInput, NonContig, OpInfo, Sample, low_precision


def _sdpa(lib, q, k, v, *args, **kwargs):
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, *args, **kwargs)


OPS = [
    OpInfo("nn.functional.scaled_dot_product_attention", fn=_sdpa, dtypes=FLOATS, gradgradcheck=True,
           samples=[
               Sample((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)).named("4d"),
               Sample((2, 4, 3), (2, 5, 3), (2, 5, 2), is_causal=True).named("causal"),
               Sample((2, 4, 3), (2, 5, 3), (2, 5, 2), Mask((4, 5))).named("bool_mask"),
               Sample((2, 4, 3), (2, 5, 3), (2, 5, 2), (2, 4, 5)).named("float_mask"),
               Sample((4, 3), (5, 3), (5, 2), scale=0.3, dropout_p=0.0).named("2d_scale"),
               Sample((2, 6, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), enable_gqa=True).named("gqa"),
               Sample((2, 3, 4, 8), (2, 1, 5, 8), (2, 1, 5, 6)).named("broadcast_heads"),
               Sample(NonContig((4, 3)), (5, 3), (5, 2), is_causal=True).named("noncontig"),
           ],
           errors=[
               ErrorInput(Sample((2, 4, 3), (2, 5, 3), (2, 5, 2), Mask((4, 5)), is_causal=True), RuntimeError,
                          r"Explicit attn_mask should not be set when is_causal=True"),
               ErrorInput(Sample((2, 4, 3), (2, 5, 3), T((2, 5, 2), "float64")), RuntimeError,
                          r"Expected query, key, and value to have the same dtype"),
               ErrorInput(Sample((2, 4, 3), (2, 5, 3), (2, 5, 2), Idx((4, 5), 2)), RuntimeError,
                          r"Expected attn_mask dtype to be bool or float"),
               ErrorInput(Sample((2, 6, 4, 8), (2, 4, 5, 8), (2, 4, 5, 6), enable_gqa=True), RuntimeError,
                          r"Number of heads in key and value must divide the number of heads in"),
           ]),
]

OPS += [low_precision(info) for info in OPS if info.name in ("nn.functional.scaled_dot_product_attention",)]
