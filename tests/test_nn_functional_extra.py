"""Behaviour of the normalization and miscellaneous NN functional ops beyond the op table: running
statistics, in-place renormalization, PyTorch's top-level argument orders, dropout in attention."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as F
from ember.ops import normalization, registry


def _pair(array, requires_grad=False):
    t = torch.tensor(array, requires_grad=requires_grad)
    e = ember.tensor(array, requires_grad=requires_grad)
    return t, e


def _close(e, t, **kw):
    torch.testing.assert_close(torch.from_numpy(np.array(e.detach().numpy())), t.detach(), **kw)


@pytest.mark.parametrize("momentum", [0.1, 0.3])
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 4)])
def test_batch_norm_running_stats_follow_torch_over_several_calls(shape, momentum):
    rng = np.random.default_rng(0)
    t_mean, e_mean = _pair(np.zeros(3, np.float32))
    t_var, e_var = _pair(np.ones(3, np.float32))
    version = e_mean._version.value
    for step in range(4):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        t_out = TF.batch_norm(torch.tensor(x), t_mean, t_var, training=True, momentum=momentum)
        e_out = F.batch_norm(ember.tensor(x), e_mean, e_var, training=True, momentum=momentum)
        _close(e_out, t_out)
        _close(e_mean, t_mean, rtol=1e-6, atol=1e-7)
        _close(e_var, t_var, rtol=1e-6, atol=1e-7)
    assert e_mean._version.value == version + 4
    x = rng.standard_normal(shape).astype(np.float32)
    _close(F.batch_norm(ember.tensor(x), e_mean, e_var), TF.batch_norm(torch.tensor(x), t_mean, t_var))


def test_batch_norm_float16_input_with_float32_running_stats():
    x = np.random.default_rng(1).standard_normal((6, 2, 3)).astype(np.float16)
    t_mean, e_mean = _pair(np.zeros(2, np.float32))
    t_var, e_var = _pair(np.ones(2, np.float32))
    t_out = TF.batch_norm(torch.tensor(x), t_mean, t_var, training=True)
    e_out = F.batch_norm(ember.tensor(x), e_mean, e_var, training=True)
    assert e_out.dtype is ember.float16 and e_mean.dtype is ember.float32
    _close(e_out, t_out, rtol=1e-2, atol=1e-2)
    _close(e_mean, t_mean, rtol=1e-3, atol=1e-4)
    _close(e_var, t_var, rtol=1e-3, atol=1e-4)


def test_batch_norm_momentum_none_is_a_type_error_as_in_torch():
    x = ember.randn(4, 3)
    with pytest.raises(TypeError, match="momentum"):
        F.batch_norm(x, ember.zeros(3), ember.ones(3), training=True, momentum=None)


def test_instance_norm_running_stats_follow_torch():
    rng = np.random.default_rng(2)
    t_mean, e_mean = _pair(np.zeros(3, np.float32))
    t_var, e_var = _pair(np.ones(3, np.float32))
    for _ in range(3):
        x = rng.standard_normal((4, 3, 6)).astype(np.float32)
        _close(F.instance_norm(ember.tensor(x), e_mean, e_var, momentum=0.2),
               TF.instance_norm(torch.tensor(x), t_mean, t_var, momentum=0.2))
    _close(e_mean, t_mean, rtol=1e-6, atol=1e-7)
    _close(e_var, t_var, rtol=1e-6, atol=1e-7)


def test_torch_top_level_argument_orders():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 5)).astype(np.float32)
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    t_args = [torch.tensor(a) for a in (x, w, b, np.zeros(3, np.float32), np.ones(3, np.float32))]
    e_args = [ember.tensor(a) for a in (x, w, b, np.zeros(3, np.float32), np.ones(3, np.float32))]
    _close(ember.batch_norm(*e_args, True, 0.1, 1e-5, False), torch.batch_norm(*t_args, True, 0.1, 1e-5, False))
    _close(e_args[3], t_args[3])
    _close(ember.instance_norm(*e_args, True, 0.1, 1e-5, False), torch.instance_norm(*t_args, True, 0.1, 1e-5, False))
    _close(ember.group_norm(e_args[0], 3, e_args[1], e_args[2], 1e-5, False),
           torch.group_norm(t_args[0], 3, t_args[1], t_args[2], 1e-5, False))
    _close(ember.layer_norm(e_args[0], [5]), torch.layer_norm(t_args[0], [5]))
    weight = rng.standard_normal((5, 2)).astype(np.float32)
    idx = np.array([[0, 4], [4, 1]])
    _close(ember.embedding(ember.tensor(weight), ember.tensor(idx)), torch.embedding(torch.tensor(weight), torch.tensor(idx)))


def test_exports_match_torch_namespaces():
    # a family on generated forms: its public functions are the registry's entries made from its definitions
    for space, torch_namespace, ember_namespace in (("", torch, ember), ("nn.functional", TF, F)):
        for name, function in registry.NAMESPACES[space].items():
            if function.__module__ == normalization.__name__:
                assert hasattr(torch_namespace, name), name
                assert getattr(ember_namespace, name) is function


def test_embedding_padding_row_gets_zero_gradient():
    weight = ember.randn(4, 3, requires_grad=True)
    out = F.embedding(ember.tensor([[0, 2], [2, 3]]), weight, padding_idx=2)
    out.sum().backward()
    assert not weight.grad.numpy()[2].any()
    np.testing.assert_array_equal(weight.grad.numpy()[[0, 3]], np.ones((2, 3), np.float32))


def test_embedding_max_norm_renormalizes_referenced_rows_like_torch():
    data = (np.arange(15, dtype=np.float32).reshape(5, 3) - 4) / 2
    t_weight, e_weight = _pair(data, requires_grad=True)
    version = e_weight._version.value
    for indices in ([0, 4, 4], [[3, 1]]):
        t_out = TF.embedding(torch.tensor(indices), t_weight, max_norm=2.0)
        e_out = F.embedding(ember.tensor(indices), e_weight, max_norm=2.0)
        _close(e_out, t_out)
        _close(e_weight, t_weight)
    assert e_weight._version.value > version
    np.testing.assert_array_equal(e_weight.detach().numpy()[2], data[2])


def test_embedding_sparse_gives_the_dense_gradient():
    data = np.random.default_rng(4).standard_normal((6, 2)).astype(np.float32)
    t_weight, e_weight = _pair(data, requires_grad=True)
    idx = [1, 5, 1, 0]
    TF.embedding(torch.tensor(idx), t_weight, sparse=True).pow(2).sum().backward()
    F.embedding(ember.tensor(idx), e_weight, sparse=True).pow(2).sum().backward()
    _close(e_weight.grad, t_weight.grad.to_dense())


def test_embedding_backward_large_batch_matches_add_at():
    rng = np.random.default_rng(5)
    weight = ember.tensor(rng.standard_normal((50, 8)).astype(np.float32), requires_grad=True)
    idx = rng.integers(0, 50, size=(40, 30))
    grad = rng.standard_normal((40, 30, 8)).astype(np.float32)
    F.embedding(ember.tensor(idx), weight).backward(ember.tensor(grad))
    expected = np.zeros((50, 8), np.float64)
    np.add.at(expected, idx.reshape(-1), grad.reshape(-1, 8))
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_attention_fully_masked_row_gives_zeros_like_torch():
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 3), (2, 5, 3), (2, 5, 2)))
    mask = np.ones((4, 5), dtype=bool)
    mask[1] = False
    t_out = TF.scaled_dot_product_attention(*map(torch.tensor, (q, k, v)), attn_mask=torch.tensor(mask))
    e_out = F.scaled_dot_product_attention(*map(ember.tensor, (q, k, v)), attn_mask=ember.tensor(mask))
    _close(e_out, t_out)
    assert not e_out.numpy()[:, 1].any()


def test_attention_dropout_is_seeded_and_rescales():
    q = k = ember.randn(2, 16, 4)
    v = ember.ones(2, 16, 3)
    ember.manual_seed(0)
    first = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    ember.manual_seed(0)
    second = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    # With v all ones, each output is the sum of the kept weights / (1 - p): 1 on average.
    assert abs(first.numpy().mean() - 1.0) < 0.25
    assert not np.allclose(first.numpy(), 1.0)


def test_attention_dropout_gradient_uses_the_same_mask():
    q = ember.randn(1, 4, 3, requires_grad=True)
    k, v = ember.randn(1, 5, 3), ember.randn(1, 5, 2, requires_grad=True)
    ember.manual_seed(3)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    out.sum().backward()
    ember.manual_seed(3)
    assert ember.autograd.gradcheck(
        lambda q64, v64: (ember.manual_seed(3), F.scaled_dot_product_attention(q64, k.double(), v64, dropout_p=0.3))[1],
        (q.detach().double().requires_grad_(), v.detach().double().requires_grad_()))


def test_layer_norm_mixed_precision_returns_input_dtype():
    x = np.random.default_rng(7).standard_normal((3, 4)).astype(np.float32)
    weight = ember.ones(4, requires_grad=True)
    out = F.layer_norm(ember.tensor(x).to(ember.bfloat16), (4,), weight=weight)
    assert out.dtype is ember.bfloat16
    out.float().sum().backward()
    assert weight.grad.dtype is ember.float32


def test_layer_norm_weight_modified_in_place_before_backward_raises():
    weight = ember.ones(4, requires_grad=True)
    scale = weight * 1.0
    out = F.layer_norm(ember.randn(2, 4), (4,), weight=scale)
    scale.add_(1.0)
    with pytest.raises(RuntimeError, match="inplace"):
        out.sum().backward()


def test_linear_matches_torch_for_many_leading_dims_and_double_backward():
    rng = np.random.default_rng(8)
    x, w, b = (rng.standard_normal(s) for s in ((2, 3, 2, 4), (5, 4), (5,)))
    t_in = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    e_in = [ember.tensor(a, requires_grad=True) for a in (x, w, b)]
    t_out, e_out = TF.linear(*t_in), F.linear(*e_in)
    t_grads = torch.autograd.grad((t_out ** 2).sum(), t_in, create_graph=True)
    e_grads = ember.autograd.grad((e_out ** 2).sum(), e_in, create_graph=True)
    for e, t in zip(e_grads, t_grads):
        _close(e, t)
    t_second = torch.autograd.grad(sum((g ** 2).sum() for g in t_grads), t_in)
    e_second = ember.autograd.grad(sum((g ** 2).sum() for g in e_grads), e_in)
    for e, t in zip(e_second, t_second):
        _close(e, t)


def test_batch_norm_double_backward_matches_torch():
    rng = np.random.default_rng(9)
    x, w, b = (rng.standard_normal(s) for s in ((4, 3, 2), (3,), (3,)))
    t_in = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    e_in = [ember.tensor(a, requires_grad=True) for a in (x, w, b)]
    t_out = TF.batch_norm(t_in[0], None, None, t_in[1], t_in[2], training=True)
    e_out = F.batch_norm(e_in[0], None, None, e_in[1], e_in[2], training=True)
    t_grads = torch.autograd.grad((t_out ** 3).sum(), t_in, create_graph=True)
    e_grads = ember.autograd.grad((e_out ** 3).sum(), e_in, create_graph=True)
    t_second = torch.autograd.grad(sum((g ** 2).sum() for g in t_grads), t_in)
    e_second = ember.autograd.grad(sum((g ** 2).sum() for g in e_grads), e_in)
    for e, t in zip(e_second, t_second):
        _close(e, t)
