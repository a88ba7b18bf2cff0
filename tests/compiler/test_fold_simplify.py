"""Constant folding (passes/constant_fold.py) and algebraic simplification (passes/simplify.py): the compiled
function gives eager mode's bits while the graph runs fewer ops."""

import numpy as np

import ember


def _log(compiled, prefix):
    return next(line for line in compiled.last_entry.pass_log if line.startswith(prefix))


def _op_names(compiled):
    """The ops the compiled graph runs, in order (a fused node's members included)."""
    return [node.op.name for _, node in compiled.last_entry.graph.units()]


def test_constant_subexpressions_run_once_and_give_eager_values():
    def f(x):
        weights = (ember.arange(6.0).reshape(2, 3) * 0.5).exp()
        shift = ember.linspace(-1.0, 1.0, 3).sin()
        return x * weights + shift

    compiled = ember.compile(f)
    for seed in range(3):
        x = ember.from_numpy(np.random.default_rng(seed).standard_normal((2, 3)).astype(np.float32))
        assert np.array_equal(compiled(x).numpy(), f(x).numpy())
    assert _log(compiled, "constants") == "constants: 4 ops folded"
    assert _op_names(compiled) == ["mul", "add"]


def test_a_folded_value_that_is_returned_is_a_new_tensor_each_call():
    def f(x):
        table = ember.arange(3.0) * 2
        return x + 1, table

    compiled = ember.compile(f)
    for _ in range(3):
        _, table = compiled(ember.zeros(3))
        assert table.tolist() == [0.0, 2.0, 4.0]
        table.add_(100)  # the caller's tensor: the next call must not see this
    assert _log(compiled, "constants") == "constants: 1 ops folded"


def test_a_constant_written_in_place_is_not_folded():
    def f(x):
        c = ember.ones(3)
        before = c * 2
        c.add_(1)
        return x + before + c

    compiled = ember.compile(f)
    for _ in range(3):
        assert compiled(ember.zeros(3)).tolist() == [4.0, 4.0, 4.0]
    assert _log(compiled, "constants") == "constants: 0 ops folded"


def test_identities_are_dropped_bit_for_bit():
    def f(x):
        with ember.no_grad():
            y = -(-(x * 1)) / 1.0
            z = (1 * y - 0) ** 1
            return z.exp() + (x + 0.0)  # x + 0 stays: it turns -0.0 into 0.0

    x = ember.tensor([-0.0, 0.0, float("nan"), -1.5, float("inf"), 3.0])
    compiled = ember.compile(f)
    got = compiled(x)
    got = compiled(x)
    expected = f(x)
    assert np.array_equal(got.numpy(), expected.numpy(), equal_nan=True)
    assert np.array_equal(np.signbit(got.numpy()), np.signbit(expected.numpy()))
    assert _log(compiled, "simplify") == "simplify: 6 ops dropped"
    assert _op_names(compiled) == ["exp", "add", "add"]


def test_a_returned_identity_is_still_a_new_tensor():
    compiled = ember.compile(lambda x: x * 1)
    x = ember.ones(2)
    out = compiled(x)
    out = compiled(x)
    out.add_(5)
    assert x.tolist() == [1.0, 1.0] and out.tolist() == [6.0, 6.0]
    assert _log(compiled, "simplify") == "simplify: 0 ops dropped"


def test_identities_in_a_training_graph_keep_their_backward():
    w = ember.ones(3, requires_grad=True)

    def step(x):
        w.grad = None
        loss = ((w * 1.0) * x).sum()
        loss.backward()
        return loss

    compiled = ember.compile(step)
    x = ember.tensor([1.0, 2.0, 3.0])
    compiled(x)
    compiled(x)
    assert w.grad.tolist() == [1.0, 2.0, 3.0]
    assert _log(compiled, "simplify") == "simplify: 0 ops dropped"


def test_a_dtype_or_shape_change_is_not_an_identity():
    def f(x, i):
        with ember.no_grad():
            return x * 1.0, i * 1.0, x * ember.ones(2, 1)  # int * 1.0 is float; the last broadcasts

    compiled = ember.compile(f)
    x, i = ember.ones(3), ember.tensor([1, 2, 3])
    for got, expected in zip(compiled(x, i), f(x, i)):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert np.array_equal(got.numpy(), expected.numpy())


def test_a_write_through_a_view_of_a_constant_is_seen():
    def f(x):
        m = ember.zeros(4)
        m[:2].add_(1)
        return x * m.exp()

    def g(x):
        m = ember.zeros(4) * 2
        m[:2].add_(1)
        return x * m

    for fn in (f, g):
        compiled = ember.compile(fn)
        x = ember.ones(4)
        for _ in range(4):
            np.testing.assert_allclose(compiled(x).numpy(), fn(x).numpy(), rtol=1e-6)


def test_an_identity_on_a_parameter_that_the_step_changes_is_kept():
    w = ember.nn.Parameter(ember.ones(3))
    opt = ember.optim.SGD([w], lr=0.5)

    def step():
        opt.zero_grad()
        with ember.no_grad():
            before = w * 1.0
        (w * 1.0).sum().backward()
        opt.step()
        return (w - before).sum()

    compiled = ember.compile(step)
    assert [round(float(compiled()), 6) for _ in range(3)] == [-1.5, -1.5, -1.5]
    assert _log(compiled, "simplify") == "simplify: 0 ops dropped"


def test_a_returned_tensor_made_in_the_call_keeps_requires_grad():
    def f(x):
        return x + 1, ember.zeros(3, requires_grad=True)

    compiled = ember.compile(f)
    for _ in range(3):
        _, made = compiled(ember.ones(3))
        assert made.requires_grad and made.is_leaf and made.tolist() == [0.0, 0.0, 0.0]
