"""Embedding and EmbeddingBag against torch.nn: lookups, weight gradients, max_norm, from_pretrained, repr."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from tests.nn.parity import assert_close, check_layer_parity, to_ember

EMBEDDING_CASES = [
    ({}, [[1, 2, 4], [4, 3, 9]]),
    ({"padding_idx": 0}, [[0, 2, 0], [4, 0, 9]]),
    ({"padding_idx": -2}, [8, 8, 1]),
    ({"scale_grad_by_freq": True}, [[1, 1, 2], [2, 2, 9]]),
    ({"max_norm": 1.0}, [[1, 5], [5, 7]]),
    ({"max_norm": 2.0, "norm_type": 1.0, "padding_idx": 3}, [3, 1, 3, 6]),
    ({}, 7),
]


@pytest.mark.parametrize("kwargs, indices", EMBEDDING_CASES)
def test_embedding_parity(kwargs, indices):
    torch.manual_seed(0)
    t_layer, e_layer = torch.nn.Embedding(10, 3, **kwargs), ember.nn.Embedding(10, 3, **kwargs)
    # check_layer_parity also compares the weights after each call: max_norm renormalizes rows in place.
    check_layer_parity(e_layer, t_layer, torch.tensor(indices))
    assert_close(e_layer.weight, t_layer.weight, what="weight after max_norm")


def test_embedding_default_init_and_padding_row():
    layer = ember.nn.Embedding(400, 50, padding_idx=3)
    weight = layer.weight.detach().numpy()
    assert (weight[3] == 0).all()
    rest = np.delete(weight, 3, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1) < 0.02  # N(0, 1), as torch's init.normal_
    out = layer(ember.tensor([3, 3, 1]))
    out.sum().backward()
    assert (layer.weight.grad.numpy()[3] == 0).all() and (layer.weight.grad.numpy()[1] == 1).all()


def test_embedding_from_pretrained():
    table = torch.randn(5, 2)
    for freeze in (True, False):
        t_layer = torch.nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=1)
        e_table = to_ember(table)
        e_layer = ember.nn.Embedding.from_pretrained(e_table, freeze=freeze, padding_idx=1)
        assert e_layer.weight.requires_grad == t_layer.weight.requires_grad == (not freeze)
        assert repr(e_layer) == repr(t_layer)
        indices = torch.tensor([[1, 4], [0, 2]])
        assert_close(e_layer(to_ember(indices)), t_layer(indices))
    # from_pretrained shares the given table, as torch does.
    with ember.no_grad():
        e_table[0, 0] = 100.0
    assert e_layer.weight[0, 0].item() == 100.0


@pytest.mark.parametrize("make, error, match", [
    (lambda: ember.nn.Embedding(10, 3, sparse=True), NotImplementedError, "sparse"),
    (lambda: ember.nn.EmbeddingBag(10, 3, sparse=True), NotImplementedError, "sparse"),
    (lambda: ember.nn.Embedding.from_pretrained(ember.ones(3, 2), sparse=True), NotImplementedError, "sparse"),
    (lambda: ember.nn.Embedding(10, 3, padding_idx=10), AssertionError, "within num_embeddings"),
    (lambda: ember.nn.Embedding(10, 3, padding_idx=-11), AssertionError, "within num_embeddings"),
    (lambda: ember.nn.EmbeddingBag(10, 3, padding_idx=12), AssertionError, "within num_embeddings"),
    (lambda: ember.nn.Embedding(10, 3, _weight=ember.ones(3, 3)), AssertionError, "Shape of weight"),
    (lambda: ember.nn.Embedding.from_pretrained(ember.ones(3)), AssertionError, "2-dimensional"),
    (lambda: ember.nn.Embedding(10, 3)(ember.tensor([10])), IndexError, "out of range"),
    (lambda: ember.nn.Embedding(10, 3)(ember.tensor([1.0])), RuntimeError, "Long, Int"),
    (lambda: ember.nn.EmbeddingBag(10, 3)(ember.tensor([1, 2])), ValueError, "offsets"),
    (lambda: ember.nn.EmbeddingBag(10, 3)(ember.tensor([1, 2]), ember.tensor([0]), ember.ones(2)),
     NotImplementedError, "per_sample_weights"),
])
def test_embedding_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


BAG_CASES = [
    ({"mode": "mean"}, [[1, 2, 4], [4, 3, 9]], None, None),
    ({"mode": "sum"}, [1, 2, 4, 4, 3, 9, 0], [0, 2, 2, 5], None),
    ({"mode": "max"}, [1, 2, 4, 4, 3, 9, 0], [0, 3], None),
    ({"mode": "sum"}, [1, 2, 4, 4, 3], [0, 1, 3], [0.5, -1.0, 2.0, 1.5, 3.0]),
    ({"mode": "mean", "include_last_offset": True}, [1, 2, 4, 4, 3, 9], [0, 2, 4, 6], None),
    ({"mode": "sum", "padding_idx": 2}, [[1, 2, 2], [2, 3, 9]], None, None),
    ({"mode": "mean", "max_norm": 1.0}, [[1, 5], [5, 7]], None, None),
    ({"mode": "mean", "scale_grad_by_freq": True}, [[1, 1, 2], [2, 2, 1]], None, None),
]


@pytest.mark.parametrize("kwargs, indices, offsets, weights", BAG_CASES)
def test_embedding_bag_parity(kwargs, indices, offsets, weights):
    torch.manual_seed(0)
    t_layer, e_layer = torch.nn.EmbeddingBag(10, 3, **kwargs), ember.nn.EmbeddingBag(10, 3, **kwargs)
    inputs = [torch.tensor(indices)]
    if offsets is not None or weights is not None:
        inputs.append(None if offsets is None else torch.tensor(offsets))
    if weights is not None:
        inputs.append(torch.tensor(weights))
    check_layer_parity(e_layer, t_layer, *inputs)


def test_embedding_bag_scale_grad_by_freq_mixed_counts():
    # torch 2.13's CPU embedding_bag divides by the wrong count when counts differ (pytorch/pytorch#190063,
    # fixed by #190264); Ember follows the documented rule, the same as Embedding + sum over each bag.
    torch.manual_seed(0)
    t_layer = torch.nn.EmbeddingBag(10, 3, mode="sum", scale_grad_by_freq=True)
    e_layer = ember.nn.EmbeddingBag(10, 3, mode="sum", scale_grad_by_freq=True)
    e_layer.load_state_dict({"weight": to_ember(t_layer.weight)})
    indices = torch.tensor([[1, 1, 2], [2, 2, 9]])
    grad_out = torch.linspace(-1, 1, 6).reshape(2, 3)
    torch.nn.functional.embedding(indices, t_layer.weight, scale_grad_by_freq=True).sum(1).backward(grad_out)
    e_layer(to_ember(indices)).backward(to_ember(grad_out))
    assert_close(e_layer.weight.grad, t_layer.weight.grad)


def test_embedding_bag_from_pretrained():
    table = torch.randn(6, 4)
    for freeze, mode in ((True, "sum"), (False, "max")):
        t_layer = torch.nn.EmbeddingBag.from_pretrained(table, freeze=freeze, mode=mode, padding_idx=0)
        e_layer = ember.nn.EmbeddingBag.from_pretrained(to_ember(table), freeze=freeze, mode=mode, padding_idx=0)
        assert e_layer.weight.requires_grad == t_layer.weight.requires_grad == (not freeze)
        assert repr(e_layer) == repr(t_layer)
        check_layer_parity(e_layer, t_layer, torch.tensor([[1, 0, 5], [2, 3, 3]]), copy_state=False)


@pytest.mark.parametrize("make", [
    lambda nn: nn.Embedding(10, 3, padding_idx=-1, max_norm=1.5, norm_type=1.0, scale_grad_by_freq=True),
    lambda nn: nn.EmbeddingBag(10, 3, max_norm=2.0, norm_type=3, mode="max", padding_idx=2),
    lambda nn: nn.EmbeddingBag(10, 3, scale_grad_by_freq=True, include_last_offset=True),
])
def test_embedding_repr(make):
    assert repr(make(ember.nn)) == repr(make(torch.nn))
