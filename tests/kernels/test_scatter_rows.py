"""The embedding backward's row scatter-add in C (ember/kernels/scatter_rows.py)."""

import numpy as np
import pytest

import ember
from ember.kernels import scatter_rows
from ember.ops.embedding import _index_add_rows

pytestmark = pytest.mark.skipif(scatter_rows._EAGER.library() is None, reason="the compile extra is not available")


@pytest.mark.parametrize("count,num_rows,width", [(5000, 3, 7), (2048, 256, 256), (10, 40, 1)])
def test_rows_are_summed_in_index_order(count, num_rows, width):
    rng = np.random.default_rng(count)
    indices = rng.integers(0, num_rows, count)
    rows = rng.standard_normal((count, width), dtype=np.float32)
    expected = np.zeros((num_rows, width), np.float32)
    np.add.at(expected, indices, rows)  # sequential, in index order
    got = scatter_rows.index_add_rows(indices, rows, num_rows)
    assert np.array_equal(got, expected)
    np.testing.assert_allclose(_index_add_rows(indices, rows, num_rows), expected, rtol=1e-5, atol=1e-5)


def test_what_the_kernel_does_not_take_goes_to_numpy():
    rows = np.ones((4, 3), np.float64)
    assert scatter_rows.index_add_rows(np.array([0, 1, 0, 1]), rows, 2) is None
    assert _index_add_rows(np.array([0, 1, 0, 1]), rows, 2).tolist() == [[2.0] * 3, [2.0] * 3]
    strided = np.ones((4, 6), np.float32)[:, ::2]
    assert scatter_rows.index_add_rows(np.array([0, 1, 0, 1]), strided, 2) is None


def test_embedding_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((50, 16)).astype(np.float32)
    tokens = rng.integers(0, 50, (8, 40))
    grad = rng.standard_normal((8, 40, 16)).astype(np.float32)
    w = ember.tensor(weight, requires_grad=True)
    ember.nn.functional.embedding(ember.tensor(tokens), w).backward(ember.tensor(grad))
    tw = torch.tensor(weight, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(tokens), tw).backward(torch.tensor(grad))
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_invalid_indices_never_reach_the_kernel():
    rows = np.ones((3, 2), np.float32)
    assert scatter_rows.index_add_rows(np.array([0, -1, 1]), rows, 2) is None
    assert scatter_rows.index_add_rows(np.array([0, 2, 1]), rows, 2) is None


def test_a_compiled_embedding_rejects_out_of_range_indices_as_eager_does():
    embedding = ember.nn.Embedding(5, 3)

    def step(tokens):
        embedding.weight.grad = None
        loss = embedding(tokens).sum()
        loss.backward()
        return loss

    compiled = ember.compile(step)
    compiled(ember.tensor([0, 4]))
    for bad in ([0, -1], [0, 5]):
        with pytest.raises(IndexError, match="out of range"):
            compiled(ember.tensor(bad))
