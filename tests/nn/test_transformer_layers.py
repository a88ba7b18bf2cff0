"""MultiheadAttention and the transformer layers against torch: outputs, gradients of inputs and parameters,
state_dict keys/shapes and repr (via ``check_layer_parity``), masks, initialization and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as EF
from tests.nn.parity import assert_close, check_layer_parity, copy_torch_state, to_ember

# Attention sums over softmax-weighted products in a different order than torch's kernels.
TOL = {"rtol": 1e-5, "atol": 1e-5}
L, S, N, E, H = 3, 4, 2, 8, 2


def _randn(*shape):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape) * 7 + len(shape)))


def _pair(cls_name, *args, **kwargs):
    """The same layer in both libraries (torch's initialization is copied into Ember by the parity check)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        torch_module = getattr(torch.nn, cls_name)(*args, **kwargs)
        ember_module = getattr(ember.nn, cls_name)(*args, **kwargs)
    return ember_module, torch_module


def _seq(length, batch, dim, batch_first):
    return _randn(batch, length, dim) if batch_first else _randn(length, batch, dim)


KEY_PADDING = torch.tensor([[False, False, True, False], [False, True, True, False]])
FLOAT_PADDING = torch.zeros(KEY_PADDING.shape).masked_fill(KEY_PADDING, -1e9)
ATTN_BOOL = torch.tensor([[False, True, False, False], [False, False, True, False], [True, False, False, False]])


# ------------------------------------------------------------------------------------------ MultiheadAttention
MHA_CASES = {
    "plain": ({}, {}),
    "batch_first": ({"batch_first": True}, {}),
    "kdim_vdim": ({"kdim": 5, "vdim": 6}, {}),
    "kdim_vdim_batch_first": ({"kdim": 5, "vdim": 6, "batch_first": True}, {}),
    "no_bias": ({"bias": False}, {}),
    "bias_kv_zero_attn": ({"add_bias_kv": True, "add_zero_attn": True}, {"key_padding_mask": KEY_PADDING,
                                                                         "attn_mask": ATTN_BOOL}),
    "key_padding_bool": ({}, {"key_padding_mask": KEY_PADDING}),
    "key_padding_float": ({}, {"key_padding_mask": KEY_PADDING.float() * -3.0}),
    "attn_mask_bool_2d": ({}, {"attn_mask": ATTN_BOOL}),
    "attn_mask_float_3d": ({"batch_first": True}, {"attn_mask": _randn(N * H, L, S)}),
    "both_masks_per_head": ({}, {"key_padding_mask": KEY_PADDING, "attn_mask": ATTN_BOOL,
                                 "average_attn_weights": False}),
    "no_weights_masks": ({"batch_first": True}, {"key_padding_mask": KEY_PADDING, "attn_mask": ATTN_BOOL,
                                                 "need_weights": False}),
}


@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention_parity(case):
    options, call = MHA_CASES[case]
    batch_first = options.get("batch_first", False)
    ember_module, torch_module = _pair("MultiheadAttention", E, H, **options)
    query = _seq(L, N, E, batch_first)
    key = _seq(S, N, options.get("kdim", E), batch_first)
    value = _seq(S, N, options.get("vdim", E), batch_first)
    masks = {name: value for name, value in call.items() if isinstance(value, torch.Tensor)}
    flags = {name: value for name, value in call.items() if name not in masks}
    names = list(masks)

    def forward(module, q, k, v, *mask_values):
        return module(q, k, v, **dict(zip(names, mask_values)), **flags)

    check_layer_parity(ember_module, torch_module, query, key, value, *masks.values(), forward=forward, **TOL)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_self_attention_causal(need_weights, batch_first):
    ember_module, torch_module = _pair("MultiheadAttention", E, H, batch_first=batch_first)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L)

    def forward(module, x, mask):
        return module(x, x, x, attn_mask=mask, is_causal=True, need_weights=need_weights)

    check_layer_parity(ember_module, torch_module, _seq(L, N, E, batch_first), causal, forward=forward, **TOL)


@pytest.mark.parametrize("average", [True, False])
def test_multihead_attention_unbatched(average):
    ember_module, torch_module = _pair("MultiheadAttention", E, H, batch_first=True)

    def forward(module, q, kv, padding, mask):
        return module(q, kv, kv, key_padding_mask=padding, attn_mask=mask, average_attn_weights=average)

    check_layer_parity(ember_module, torch_module, _randn(L, E), _randn(S, E), KEY_PADDING[0], _randn(H, L, S) > 0.5,
                       forward=forward, **TOL)


def test_multihead_attention_fast_path_matches():
    """torch takes its fused inference path in eval mode without gradients; the numbers are the same."""
    ember_module, torch_module = _pair("MultiheadAttention", E, H, batch_first=True)
    copy_torch_state(ember_module, torch_module)
    ember_module.eval()
    torch_module.eval()
    x = _randn(N, S, E)
    with torch.no_grad():
        expected = torch_module(x, x, x, key_padding_mask=KEY_PADDING)
    with ember.no_grad():
        actual = ember_module(to_ember(x), to_ember(x), to_ember(x), key_padding_mask=to_ember(KEY_PADDING))
    assert_close(actual, expected, **TOL)


@pytest.mark.parametrize("dtype", ["float64", "bfloat16"])
def test_encoder_layer_dtypes(dtype):
    torch_dtype, ember_dtype = getattr(torch, dtype), getattr(ember, dtype)
    torch.manual_seed(0)
    torch_module = torch.nn.TransformerEncoderLayer(E, H, 16, 0.0, dtype=torch_dtype)
    ember_module = ember.nn.TransformerEncoderLayer(E, H, 16, 0.0, dtype=ember_dtype)
    tolerance = {"rtol": 1e-10, "atol": 1e-10} if dtype == "float64" else {"rtol": 2e-2, "atol": 2e-2}

    def forward(module, x, mask):
        return module(x, src_mask=mask)

    check_layer_parity(ember_module, torch_module, _randn(S, N, E).to(torch_dtype),
                       torch.nn.Transformer.generate_square_subsequent_mask(S, dtype=torch_dtype), forward=forward,
                       modes=("eval",), **tolerance)


def test_encoder_layer_fast_path_matches():
    ember_module, torch_module = _layer_pair("TransformerEncoderLayer", E, H, 16, batch_first=True)
    copy_torch_state(ember_module, torch_module)
    ember_module.eval()
    torch_module.eval()
    x = _randn(N, S, E)
    with torch.no_grad():
        expected = torch_module(x, src_key_padding_mask=KEY_PADDING)
    with ember.no_grad():
        actual = ember_module(to_ember(x), src_key_padding_mask=to_ember(KEY_PADDING))
    assert_close(actual, expected, **TOL)


def test_multihead_attention_state_and_init():
    ember.manual_seed(0)
    module = ember.nn.MultiheadAttention(E, H, add_bias_kv=True)
    torch_module = torch.nn.MultiheadAttention(E, H, add_bias_kv=True)
    assert list(module.state_dict()) == list(torch_module.state_dict())
    bound = (6 / (3 * E + E)) ** 0.5
    weight = module.in_proj_weight.detach().numpy()
    assert np.abs(weight).max() <= bound and weight.std() > bound / 3
    assert not module.in_proj_bias.detach().numpy().any() and not module.out_proj.bias.detach().numpy().any()
    separate = ember.nn.MultiheadAttention(E, H, kdim=3, vdim=5, bias=False, dtype=ember.float64)
    torch_separate = torch.nn.MultiheadAttention(E, H, kdim=3, vdim=5, bias=False, dtype=torch.float64)
    assert [(k, tuple(v.shape)) for k, v in separate.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in torch_separate.state_dict().items()]
    assert separate.in_proj_weight is None and separate.q_proj_weight.dtype == ember.float64
    assert type(module.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(module.out_proj, ember.nn.Linear)


def test_multihead_attention_dropout_training():
    ember.manual_seed(0)
    module = ember.nn.MultiheadAttention(E, H, dropout=0.5)
    x = ember.randn(L, N, E, requires_grad=True)
    out, weights = module(x, x, x, average_attn_weights=False)
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    dropped = (weights.detach().numpy() == 0).mean()
    assert 0.2 < dropped < 0.8
    module.eval()
    _, eval_weights = module(x, x, x, average_attn_weights=False)
    np.testing.assert_allclose(eval_weights.detach().numpy().sum(-1), 1.0, rtol=1e-5)


def test_multihead_attention_errors():
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        ember.nn.MultiheadAttention(0, 2)
    with pytest.raises(AssertionError, match="divisible by num_heads"):
        ember.nn.MultiheadAttention(6, 4)
    module = ember.nn.MultiheadAttention(E, H)
    x = ember.randn(L, N, E)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        module(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
        module(x, x, x, attn_mask=ember.zeros(L, L + 1))
    with pytest.raises(RuntimeError, match="The shape of the 3D attn_mask is"):
        module(x, x, x, attn_mask=ember.zeros(H, L, L))
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        module(x, x[0], x[0])
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8"):
        module(ember.randn(L, N, 4), ember.randn(L, N, 4), ember.randn(L, N, 4))
    with pytest.raises(AssertionError, match="only bool and floating types of key_padding_mask"):
        module(x, x, x, key_padding_mask=ember.zeros(N, L, dtype=ember.int64))
    with pytest.raises(AssertionError, match=r"Expected key_padded_mask.shape\[1\] to be 3"):
        module(x, x, x, key_padding_mask=ember.zeros(N, L + 1, dtype=ember.bool))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        module(x, x, x, key_padding_mask=ember.zeros(N, L, dtype=ember.bool), attn_mask=ember.zeros(L, L))


def test_functional_static_kv_and_double_backward():
    """static_k/static_v replace the projected key/value; the composite supports create_graph=True."""
    torch_query = _randn(L, N, E).double().requires_grad_(True)
    weights = [_randn(3 * E, E).double(), _randn(3 * E).double(), _randn(E, E).double(), _randn(E).double()]
    static_k, static_v = _randn(N * H, S, E // H).double(), _randn(N * H, S, E // H).double()
    expected = torch.nn.functional.multi_head_attention_forward(
        torch_query, torch_query, torch_query, E, H, weights[0], weights[1], None, None, False, 0.0, weights[2],
        weights[3], static_k=static_k, static_v=static_v)
    query = to_ember(torch_query, requires_grad=True)
    actual = EF.multi_head_attention_forward(query, query, query, E, H, *[to_ember(w) for w in weights[:2]], None, None,
                                             False, 0.0, *[to_ember(w) for w in weights[2:]], static_k=to_ember(static_k),
                                             static_v=to_ember(static_v))
    assert_close(actual, expected, rtol=1e-10, atol=1e-10)
    (grad,) = ember.autograd.grad((actual[0] ** 2).sum(), query, create_graph=True)
    (expected_grad,) = torch.autograd.grad((expected[0] ** 2).sum(), torch_query, create_graph=True)
    assert_close(grad, expected_grad, rtol=1e-10, atol=1e-10)
    ember.autograd.backward(grad.sum())
    expected_grad.sum().backward()
    assert_close(query.grad, torch_query.grad, rtol=1e-9, atol=1e-9)


# ------------------------------------------------------------------------------------------ transformer layers
LAYER_CASES = {
    "post_norm": {},
    "norm_first_batch_first": {"norm_first": True, "batch_first": True},
    "gelu_no_bias": {"activation": "gelu", "bias": False},
    "callable_activation": {"activation": "tanh", "batch_first": True, "layer_norm_eps": 1e-3},
}


def _layer_options(options):
    options = dict(options)
    if options.get("activation") == "tanh":
        options["activation"] = (torch.tanh, ember.tanh)
    return options


def _split_options(options):
    torch_options = {k: v[0] if isinstance(v, tuple) else v for k, v in options.items()}
    ember_options = {k: v[1] if isinstance(v, tuple) else v for k, v in options.items()}
    return torch_options, ember_options


def _layer_pair(cls_name, *args, **options):
    torch_options, ember_options = _split_options(_layer_options(options))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        torch_module = getattr(torch.nn, cls_name)(*args, **torch_options)
        ember_module = getattr(ember.nn, cls_name)(*args, **ember_options)
    return ember_module, torch_module


@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_transformer_encoder_layer_parity(case):
    options = LAYER_CASES[case]
    ember_module, torch_module = _layer_pair("TransformerEncoderLayer", E, H, 16, 0.0, **options)
    src = _seq(S, N, E, options.get("batch_first", False))
    causal = torch.nn.Transformer.generate_square_subsequent_mask(S)

    def forward(module, x, mask, padding):
        return module(x, src_mask=mask, src_key_padding_mask=padding, is_causal=True)

    check_layer_parity(ember_module, torch_module, src, causal, FLOAT_PADDING, forward=forward, **TOL)


@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_transformer_decoder_layer_parity(case):
    options = LAYER_CASES[case]
    batch_first = options.get("batch_first", False)
    ember_module, torch_module = _layer_pair("TransformerDecoderLayer", E, H, 16, 0.0, **options)
    tgt, memory = _seq(L, N, E, batch_first), _seq(S, N, E, batch_first)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L)

    def forward(module, tgt, memory, mask, padding):
        return module(tgt, memory, tgt_mask=mask, memory_key_padding_mask=padding, tgt_is_causal=True)

    check_layer_parity(ember_module, torch_module, tgt, memory, causal, KEY_PADDING, forward=forward, **TOL)


def test_layers_unbatched_and_module_activation():
    ember_module, torch_module = _layer_pair("TransformerEncoderLayer", E, H, 16, 0.0,
                                             activation=(torch.nn.GELU(), ember.nn.GELU()))
    assert ember_module.activation_relu_or_gelu == torch_module.activation_relu_or_gelu == 2
    check_layer_parity(ember_module, torch_module, _randn(S, E), **TOL)
    ember_module, torch_module = _layer_pair("TransformerDecoderLayer", E, H, 16, 0.0, norm_first=True)
    check_layer_parity(ember_module, torch_module, _randn(L, E), _randn(S, E), **TOL)


@pytest.mark.parametrize("batch_first", [True, False])
def test_transformer_encoder_stack(batch_first):
    ember_layer, torch_layer = _layer_pair("TransformerEncoderLayer", E, H, 16, 0.0, batch_first=batch_first)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch_module = torch.nn.TransformerEncoder(torch_layer, 2, norm=torch.nn.LayerNorm(E))
        torch_warnings = [str(w.message) for w in caught]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember_module = ember.nn.TransformerEncoder(ember_layer, 2, norm=ember.nn.LayerNorm(E))
        ember_warnings = [str(w.message) for w in caught]
    assert ember_warnings == torch_warnings
    assert ember_module.use_nested_tensor == torch_module.use_nested_tensor
    causal = torch.nn.Transformer.generate_square_subsequent_mask(S)

    def forward(module, x, mask, padding):
        return module(x, mask=mask, src_key_padding_mask=padding)

    check_layer_parity(ember_module, torch_module, _seq(S, N, E, batch_first), causal, FLOAT_PADDING, forward=forward,
                       **TOL)


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_transformer_encoder_nested_padding_zeros():
    """torch's nested-tensor inference path returns zeros at padded positions; Ember matches it."""
    ember_layer, torch_layer = _layer_pair("TransformerEncoderLayer", E, H, 16, batch_first=True)
    torch_module = torch.nn.TransformerEncoder(torch_layer, 2).eval()
    ember_module = ember.nn.TransformerEncoder(ember_layer, 2).eval()
    copy_torch_state(ember_module, torch_module)
    x = _randn(N, S, E)
    left_aligned = torch.tensor([[False, False, True, True], [False, False, False, False]])
    for padding in (left_aligned, KEY_PADDING):
        with torch.no_grad():
            expected = torch_module(x, src_key_padding_mask=padding)
        with ember.no_grad():
            actual = ember_module(to_ember(x), src_key_padding_mask=to_ember(padding))
        assert_close(actual, expected, **TOL)
        assert (padding is left_aligned) == (not actual[0, 2:].numpy().any())


def test_transformer_decoder_stack_detects_causal():
    ember_layer, torch_layer = _layer_pair("TransformerDecoderLayer", E, H, 16, 0.0, batch_first=True)
    torch_module = torch.nn.TransformerDecoder(torch_layer, 2, norm=torch.nn.LayerNorm(E))
    ember_module = ember.nn.TransformerDecoder(ember_layer, 2, norm=ember.nn.LayerNorm(E))
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L)

    def forward(module, tgt, memory, mask, padding):
        return module(tgt, memory, tgt_mask=mask, tgt_key_padding_mask=padding)

    check_layer_parity(ember_module, torch_module, _randn(N, L, E), _randn(N, S, E), causal, FLOAT_PADDING[:, :L],
                       forward=forward, **TOL)


@pytest.mark.parametrize("options", [{}, {"batch_first": True, "norm_first": True, "activation": "gelu"}])
def test_transformer_parity(options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        torch_module = torch.nn.Transformer(E, H, 2, 1, 16, 0.0, **options)
        ember_module = ember.nn.Transformer(E, H, 2, 1, 16, 0.0, **options)
    batch_first = options.get("batch_first", False)
    src, tgt = _seq(S, N, E, batch_first), _seq(L, N, E, batch_first)
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(L)

    def forward(module, src, tgt, mask, padding):
        return module(src, tgt, tgt_mask=mask, src_key_padding_mask=padding, memory_key_padding_mask=padding)

    check_layer_parity(ember_module, torch_module, src, tgt, tgt_mask, KEY_PADDING, forward=forward, **TOL)


def test_transformer_init_mask_and_errors():
    ember.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ember.nn.Transformer(E, H, 1, 1, 16)
    weight = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = (6 / (E + 16)) ** 0.5
    assert np.abs(weight).max() <= bound and weight.std() > bound / 3
    mask = ember.nn.Transformer.generate_square_subsequent_mask(4, dtype=ember.float64)
    assert_close(mask, torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(ember.zeros(3, 2, E), ember.zeros(3, 1, E))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(ember.zeros(3, 2, E), ember.zeros(3, 2, 4))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        ember.nn.TransformerEncoderLayer(E, H, activation="tanh")
