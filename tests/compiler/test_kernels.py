"""Fused C kernels of the compiler: disk cache, NumPy fallback, and fused optimizer updates equal to eager."""

import warnings

import numpy as np
import pytest

import ember
from ember.compiler import fused_optimizer, kernels
from ember.optim import optimizer as optimizer_module

needs_compiler = pytest.mark.skipif(not kernels.available(), reason="no C compiler or cffi")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE_DIR", str(tmp_path))
    return tmp_path


@needs_compiler
def test_kernel_cached_on_disk_by_source(cache):
    source = "void add_one_xyz(float* x, long n) { for (long i = 0; i < n; i++) x[i] += 1; }"
    lib = kernels.load_kernels(source, "void add_one_xyz(float* x, long n);")
    files = list(cache.glob("*.so"))
    assert len(files) == 1
    x = np.zeros(4, np.float32)
    lib.add_one_xyz(kernels.pointer(x), x.size)
    assert x.tolist() == [1, 1, 1, 1]
    assert kernels.load_kernels(source, "void add_one_xyz(float* x, long n);") is lib
    assert len(list(cache.glob("*.so"))) == 1


def test_no_compiler_falls_back_with_one_warning(monkeypatch):
    monkeypatch.setitem(kernels._STATE, "checked", True)
    monkeypatch.setitem(kernels._STATE, "compiler", None)
    monkeypatch.setitem(kernels._STATE, "reason", "no C compiler found")
    monkeypatch.setitem(kernels._STATE, "warned", False)
    monkeypatch.setattr(kernels, "_LOADED", {})  # nothing compiled earlier in this process
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert kernels.load_kernels("void f(void) {}", "void f(void);") is None
        assert kernels.load_kernels("void g(void) {}", "void g(void);") is None
    assert len(caught) == 1 and "no C compiler" in str(caught[0].message)
    opt = ember.optim.SGD([ember.nn.Parameter(ember.ones(2))], lr=0.1)
    assert fused_optimizer.fused_update(opt) is False


def _params(seed, shapes=((5, 3), (3,), (70000,))):
    rng = np.random.default_rng(seed)
    return [ember.nn.Parameter(ember.from_numpy(rng.standard_normal(s).astype(np.float32))) for s in shapes]


OPTIMIZERS = [
    ("sgd", lambda ps: ember.optim.SGD(ps, lr=0.05)),
    ("sgd_wd", lambda ps: ember.optim.SGD(ps, lr=0.05, weight_decay=0.1)),
    ("momentum", lambda ps: ember.optim.SGD(ps, lr=0.01, momentum=0.9)),
    ("momentum_damp_wd", lambda ps: ember.optim.SGD(ps, lr=0.01, momentum=0.9, dampening=0.2, weight_decay=1e-3)),
    ("nesterov", lambda ps: ember.optim.SGD(ps, lr=0.01, momentum=0.8, nesterov=True)),
    ("adam", lambda ps: ember.optim.Adam(ps, lr=1e-2)),
    ("adam_wd", lambda ps: ember.optim.Adam(ps, lr=1e-2, weight_decay=0.05)),
    ("adam_big_beta1_weight", lambda ps: ember.optim.Adam(ps, lr=1e-2, betas=(0.3, 0.9))),
    ("adamw", lambda ps: ember.optim.AdamW(ps, lr=3e-3, weight_decay=0.1)),
]


@needs_compiler
@pytest.mark.parametrize("name,make", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_fused_update_equals_eager_bitwise(name, make, monkeypatch):
    monkeypatch.setitem(optimizer_module._FUSED, "enabled", False)  # eager.step() runs the NumPy update
    eager_params, fused_params = _params(0), _params(0)
    eager, fused = make(eager_params), make(fused_params)
    assert fused_optimizer.supported(fused)

    def step():
        if not fused_optimizer.fused_update(fused):  # the first step creates the state in NumPy
            fused.step()
    rng = np.random.default_rng(1)
    for _ in range(4):
        for a, b in zip(eager_params, fused_params):
            g = rng.standard_normal(a.shape).astype(np.float32)
            a.grad, b.grad = ember.from_numpy(g.copy()), ember.from_numpy(g.copy())
        eager.step()
        step()
        for a, b in zip(eager_params, fused_params):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    for a, b in zip(eager_params, fused_params):
        for key, value in eager.state[a].items():
            np.testing.assert_array_equal(value.numpy(), fused.state[b][key].numpy())


def test_unsupported_options_are_not_fused():
    p = [ember.nn.Parameter(ember.ones(2))]
    assert not fused_optimizer.supported(ember.optim.Adam(p, amsgrad=True))
    assert not fused_optimizer.supported(ember.optim.SGD(p, lr=0.1, maximize=True))
    assert not fused_optimizer.supported(ember.optim.RMSprop(p))


@needs_compiler
def test_float64_parameters_run_the_eager_step():
    p = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    q = ember.nn.Parameter(ember.ones(3, dtype=ember.float64))
    a, b = ember.optim.Adam([p], lr=0.1), ember.optim.Adam([q], lr=0.1)
    for _ in range(3):
        p.grad = ember.full((3,), 0.5, dtype=ember.float64)
        q.grad = ember.full((3,), 0.5, dtype=ember.float64)
        a.step()
        if not fused_optimizer.fused_update(b):
            b.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


# ---------------------------------------------------------------------------------------------- arena (out=)
def _arena(compiled):
    return compiled.last_entry.plan


def test_arena_reuses_buffers_and_respects_views():
    def f(x):
        a = x + 1.0
        view = a.t()                   # a view of a's buffer, read after a's last direct reader
        b = (a * 3.0).sum()
        c = (x * 2.0 + 1.0).exp()      # same shape as a: may only take a's buffer once view is dead
        return (view * 2.0).sum() + b + c.sum()

    compiled = ember.compile(f)
    for seed in range(3):
        x = ember.from_numpy(np.random.default_rng(seed).standard_normal((4, 4)).astype(np.float32))
        np.testing.assert_allclose(compiled(x).item(), f(x).item(), rtol=1e-6)
    plan = _arena(compiled)
    assert plan.buffer_of and plan.allocations[2] < plan.allocations[0]


def test_arena_shares_a_buffer_between_results_that_no_backward_keeps():
    # The first linear's output is read by one add only: linear keeps its input, not its output, so a later
    # forward result may take its buffer although the linear stays in the autograd graph until backward.
    a, b = ember.nn.Linear(8, 8), ember.nn.Linear(8, 8)
    x = ember.from_numpy(np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32))

    def step():
        for p in (*a.parameters(), *b.parameters()):
            p.grad = None
        h = x + a(x)
        y = h + b(h.tanh())
        loss = y.square().sum()
        loss.backward()
        return loss

    compiled = ember.compile(step)
    losses = [compiled().item() for _ in range(2)]
    grads = [p.grad.numpy().copy() for p in (*a.parameters(), *b.parameters())]
    expected = step().item()
    np.testing.assert_allclose(losses, [expected, expected], rtol=1e-6)
    for got, p in zip(grads, (*a.parameters(), *b.parameters())):
        np.testing.assert_allclose(got, p.grad.numpy(), rtol=1e-6)
    plan = _arena(compiled)
    graph = compiled.last_entry.graph
    first_linear = next(i for i, n in enumerate(graph.nodes) if n.kind == "op" and n.op.name == "linear")
    first_backward = next(i for i, n in enumerate(graph.nodes) if n.kind == "backward")
    shared = [i for i, b in plan.buffer_of.items() if b == plan.buffer_of[first_linear] and i != first_linear]
    assert any(i < first_backward for i in shared), "the buffer stays busy until the linear's backward"


def test_arena_keeps_what_a_backward_reads_until_that_backward():
    # tanh keeps its output for backward: a later result of the same shape must not take its buffer.
    w = ember.ones(4, 4, requires_grad=True)

    def step(x):
        w.grad = None
        t = (x + 1.0).tanh()
        u = (x * 2.0 + t.detach()).exp()
        loss = (t * 0.5).sum() + (u * w).sum()
        loss.backward()
        return loss

    compiled = ember.compile(step)
    x = ember.from_numpy(np.random.default_rng(1).standard_normal((4, 4)).astype(np.float32) * 0.1)
    got = compiled(x).item()
    got_grad = w.grad.numpy().copy()
    expected = step(x).item()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(got_grad, w.grad.numpy(), rtol=1e-6)


def _square_loss_step(model, opt, x):
    def step():
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        return loss
    return step


def test_an_elementwise_op_writes_into_its_dying_operands_buffer():
    # relu keeps its output, not its input: the linear's result dies at the relu, which overwrites it in place
    model = ember.nn.Sequential(ember.nn.Linear(6, 8), ember.nn.ReLU(), ember.nn.Linear(8, 8), ember.nn.ReLU(),
                                ember.nn.Linear(8, 2))
    x = ember.from_numpy(np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32))
    compiled = ember.compile(_square_loss_step(model, ember.optim.SGD(model.parameters(), lr=0.1), x))
    compiled()
    graph, plan = compiled.last_entry.graph, _arena(compiled)
    relus = [i for i, n in enumerate(graph.nodes) if n.kind == "op" and n.op.name == "relu"]
    for i in relus:
        linear = next(j for j in range(i - 1, -1, -1) if graph.nodes[j].kind == "op" and graph.nodes[j].op.name == "linear")
        assert plan.buffer_of[i] == plan.buffer_of[linear]


def test_arena_outputs_are_not_overwritten_by_the_next_call():
    compiled = ember.compile(lambda x: (x + 1.0).relu())
    first = compiled(ember.ones(3))
    second = compiled(ember.full((3,), 5.0))
    assert first.tolist() == [2.0, 2.0, 2.0] and second.tolist() == [6.0, 6.0, 6.0]


def test_explain_reports_arena_and_allocations(capsys):
    model = ember.nn.Sequential(ember.nn.Linear(4, 8), ember.nn.ReLU(), ember.nn.Linear(8, 2))
    step = _square_loss_step(model, ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), ember.ones(3, 4))
    text = ember.compiler.explain(step).text
    assert "arena:" in text and "arrays allocated per call:" in text


def test_compiled_training_with_arena_and_fused_update_equals_eager():
    def build():
        ember.manual_seed(0)
        model = ember.nn.Sequential(ember.nn.Linear(6, 16), ember.nn.Tanh(), ember.nn.Linear(16, 16), ember.nn.ReLU(),
                                    ember.nn.Linear(16, 3))
        return model, ember.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)

    x = ember.from_numpy(np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32))
    y = ember.tensor([0, 1, 2, 1, 0])
    runs = []
    for compile_it in (False, True):
        model, opt = build()

        def step(model=model, opt=opt):
            opt.zero_grad(set_to_none=True)
            loss = ember.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        fn = ember.compile(step) if compile_it else step
        runs.append(([fn().item() for _ in range(6)], [p.detach().numpy().copy() for p in model.parameters()]))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-6)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
