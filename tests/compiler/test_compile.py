"""ember.compile: compiled results equal eager ones step after step; guards, cache, graph breaks, footguns."""

import re
import warnings

import numpy as np
import pytest

import ember
from ember import nn

F = nn.functional
STEPS = 5


@pytest.fixture(autouse=True)
def _fresh_compiler():
    ember.compiler.reset()
    yield
    ember.compiler.reset()


# ---------------------------------------------------------------------------------------------- models
class GPTBlock(nn.Module):
    def __init__(self, vocab=17, dim=16, heads=2, context=6):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.position = nn.Parameter(ember.randn(context, dim) * 0.02)
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.head = nn.Linear(dim, vocab)
        self.heads = heads

    def forward(self, tokens):
        b, t = tokens.shape
        x = self.embed(tokens) + self.position[:t]
        q, k, v = self.qkv(self.norm1(x)).chunk(3, dim=-1)
        split = lambda z: z.reshape(b, t, self.heads, -1).transpose(1, 2)  # noqa: E731
        attention = F.scaled_dot_product_attention(split(q), split(k), split(v), is_causal=True)
        x = x + self.proj(attention.transpose(1, 2).reshape(b, t, -1))
        x = x + self.mlp(self.norm2(x))
        return self.head(x)


class LSTMModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 8, batch_first=True)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        seq, _ = self.lstm(x)
        return self.out(seq[:, -1])


def _data(kind, seed):
    rng = np.random.default_rng(seed)
    if kind == "mlp":
        return ember.tensor(rng.standard_normal((8, 20)).astype(np.float32)), ember.tensor(rng.integers(0, 5, 8))
    if kind == "cnn":
        return ember.tensor(rng.standard_normal((4, 3, 8, 8)).astype(np.float32)), ember.tensor(rng.integers(0, 4, 4))
    if kind == "gpt":
        tokens = rng.integers(0, 17, (3, 7))
        return ember.tensor(tokens[:, :-1]), ember.tensor(tokens[:, 1:])
    return ember.tensor(rng.standard_normal((4, 5, 6)).astype(np.float32)), ember.tensor(rng.integers(0, 3, 4))


def _setup(kind):
    ember.manual_seed(0)
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5))
        return model, ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    if kind == "dropout":
        model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 5))
        return model, ember.optim.SGD(model.parameters(), lr=0.1)
    if kind == "cnn":
        model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64, 4))
        return model, ember.optim.Adam(model.parameters(), lr=0.01)
    if kind == "gpt":
        model = GPTBlock()
        return model, ember.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1)
    model = LSTMModel()
    return model, ember.optim.Adam(model.parameters(), lr=0.01)


def _train_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss
    return step


@pytest.mark.parametrize("kind", ["mlp", "dropout", "cnn", "gpt", "lstm"])
def test_training_step_matches_eager(kind):
    data = [_data("mlp" if kind == "dropout" else kind, seed) for seed in range(STEPS)]
    results = []
    for compiled in (False, True):
        model, opt = _setup(kind)
        step = _train_step(model, opt)
        if compiled:
            step = ember.compile(step, fullgraph=True)
        ember.manual_seed(123)
        losses = [step(x, y).item() for x, y in data]
        state = {k: v._data.copy() for k, v in model.state_dict().items()}
        results.append((losses, state, opt))
    (eager_losses, eager_state, eager_opt), (losses, state, opt) = results
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5, atol=1e-6)
    for name in eager_state:
        np.testing.assert_allclose(state[name], eager_state[name], rtol=1e-5, atol=1e-6, err_msg=name)
    eager_states = [s for s in eager_opt.state_dict()["state"].values()]
    compiled_states = [s for s in opt.state_dict()["state"].values()]
    for a, b in zip(eager_states, compiled_states):
        for key in a:
            np.testing.assert_allclose(np.asarray(b[key]._data), np.asarray(a[key]._data), rtol=1e-5, atol=1e-6)


def test_batchnorm_buffers_update_like_eager():
    data = [_data("cnn", seed) for seed in range(3)]
    buffers = []
    for compiled in (False, True):
        model, opt = _setup("cnn")
        step = _train_step(model, opt)
        step = ember.compile(step) if compiled else step
        for x, y in data:
            step(x, y)
        bn = model[1]
        buffers.append((bn.running_mean._data.copy(), bn.running_var._data.copy(), int(bn.num_batches_tracked)))
    np.testing.assert_allclose(buffers[1][0], buffers[0][0], rtol=1e-6)
    np.testing.assert_allclose(buffers[1][1], buffers[0][1], rtol=1e-6)
    assert buffers[1][2] == buffers[0][2] == 3


def test_cumulative_batchnorm_is_not_frozen():
    bn_eager, bn = nn.BatchNorm1d(3, momentum=None), nn.BatchNorm1d(3, momentum=None)
    compiled = ember.compile(bn)
    with pytest.warns(UserWarning, match="momentum=None"):
        for seed in range(4):
            x = ember.tensor(np.random.default_rng(seed).standard_normal((5, 3)).astype(np.float32))
            compiled(x)
            bn_eager(x)
    np.testing.assert_allclose(bn.running_mean._data, bn_eager.running_mean._data, rtol=1e-6)


def test_lr_scheduler_inside_the_step():
    results = []
    for compiled in (False, True):
        model, opt = _setup("mlp")
        scheduler = ember.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        train = _train_step(model, opt)

        def step(x, y):
            loss = train(x, y)
            scheduler.step()
            return loss

        step = ember.compile(step, fullgraph=True) if compiled else step
        results.append([step(*_data("mlp", s)).item() for s in range(STEPS)] + [opt.param_groups[0]["lr"]])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-5)


def test_module_forward_compile_keeps_autograd_and_eval():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    compiled = ember.compile(model)
    x = ember.randn(5, 4)
    for _ in range(2):
        out = compiled(x)
        np.testing.assert_allclose(out._data, model(x)._data, rtol=1e-6)
    out.sum().backward()
    grad = model[0].weight.grad._data.copy()
    model.zero_grad()
    model(x).sum().backward()
    np.testing.assert_allclose(grad, model[0].weight.grad._data, rtol=1e-6)
    compiled.eval()
    with ember.no_grad():
        for _ in range(2):
            np.testing.assert_allclose(compiled(x)._data, model(x)._data, rtol=1e-6)
    assert isinstance(compiled._orig_mod, nn.Sequential)


def test_decorator_forms():
    @ember.compile
    def plain(x):
        return x.exp() * 2

    @ember.compile(fullgraph=True, mode="reduce-overhead")
    def configured(x, y):
        return (x @ y).relu()

    x = ember.randn(3, 3)
    for _ in range(3):
        np.testing.assert_allclose(plain(x)._data, np.exp(x._data) * 2, rtol=1e-6)
        np.testing.assert_allclose(configured(x, x)._data, np.maximum(x._data @ x._data, 0), rtol=1e-6)
    with pytest.raises(RuntimeError, match="unknown mode"):
        ember.compile(plain, mode="fastest")


# ---------------------------------------------------------------------------------------------- footguns
def test_changed_python_constant_recompiles():
    scale = {"value": 2.0}

    @ember.compile
    def f(x, factor):
        return x * factor

    x = ember.ones(2)
    assert f(x, 2.0).tolist() == [2.0, 2.0]
    assert f(x, 3.0).tolist() == [3.0, 3.0]
    assert f(x, 2.0).tolist() == [2.0, 2.0]
    assert scale["value"] == 2.0


GLOBAL_SCALE = 2.0


def test_changed_global_constant_recompiles():
    global GLOBAL_SCALE

    @ember.compile
    def f(x):
        return x * GLOBAL_SCALE

    x = ember.ones(2)
    assert f(x).tolist() == [2.0, 2.0]
    assert f(x).tolist() == [2.0, 2.0]
    GLOBAL_SCALE = 5.0
    try:
        assert f(x).tolist() == [5.0, 5.0]
    finally:
        GLOBAL_SCALE = 2.0
    assert any("GLOBAL_SCALE" in line for line in f.log)


def test_closure_constant_recompiles():
    def make():
        offset = 1.0

        def f(x):
            return x + offset

        def bump():
            nonlocal offset
            offset += 1
        return f, bump

    f, bump = make()
    compiled = ember.compile(f)
    x = ember.zeros(1)
    assert compiled(x).item() == 1.0
    assert compiled(x).item() == 1.0
    bump()
    assert compiled(x).item() == 2.0


def test_outputs_are_not_reused_between_calls():
    f = ember.compile(lambda x: x * 2)
    first = f(ember.tensor([1.0]))
    second = f(ember.tensor([5.0]))
    third = f(ember.tensor([7.0]))
    assert (first.item(), second.item(), third.item()) == (2.0, 10.0, 14.0)


def test_tensors_made_in_the_call_are_new_each_call():
    def f(x):
        made = ember.ones(3)
        scale = ember.full((3,), 2.0)
        return x + 1, made, made.view(3, 1), scale * 3

    compiled = ember.compile(f)
    for _ in range(3):
        _, made, view, scaled = compiled(ember.zeros(3))
        assert made.tolist() == [1.0, 1.0, 1.0] and view.tolist() == [[1.0], [1.0], [1.0]]
        assert scaled.tolist() == [6.0, 6.0, 6.0]
        made.add_(10)  # the caller owns what it got back: the next call must not see this
        scaled.add_(10)


def test_aliased_inputs_recompile():
    @ember.compile
    def f(a, b):
        a.add_(1)
        return a + b

    a, b = ember.zeros(2), ember.zeros(2)
    assert f(a, b).tolist() == [1.0, 1.0]
    c = ember.zeros(2)
    assert f(c, c).tolist() == [2.0, 2.0]  # eager: c becomes 1, then 1 + 1
    d, e = ember.zeros(2), ember.zeros(2)
    assert f(d, e).tolist() == [1.0, 1.0]
    assert any("aliasing" in line for line in f.log)


def test_inplace_updates_of_inputs_are_replayed():
    @ember.compile
    def f(x, y):
        x.mul_(2)
        x += y
        return x.sum()

    for _ in range(3):
        x, y = ember.ones(3), ember.full((3,), 0.5)
        assert f(x, y).item() == 7.5
        assert x.tolist() == [2.5, 2.5, 2.5]
        assert x._version.value >= 2


def test_methods_shared_across_instances():
    class Scaler:
        def __init__(self, factor):
            self.weight = ember.full((2,), float(factor))

        @ember.compile
        def apply(self, x):
            return x * self.weight

    one, two = Scaler(1), Scaler(2)
    x = ember.ones(2)
    assert one.apply(x).tolist() == [1.0, 1.0]
    assert two.apply(x).tolist() == [2.0, 2.0]
    assert one.apply(x).tolist() == [1.0, 1.0]
    assert two.apply(x).tolist() == [2.0, 2.0]


def test_parameters_and_closure_tensors_are_read_live():
    weight = ember.ones(2)
    f = ember.compile(lambda x: x * weight)
    x = ember.ones(2)
    f(x)
    weight.fill_(3.0)
    assert f(x).tolist() == [3.0, 3.0]


def test_random_ops_draw_fresh_values():
    f = ember.compile(lambda x: F.dropout(x, 0.5))
    x = ember.ones(1000)
    ember.manual_seed(0)
    draws = [f(x)._data.copy() for _ in range(3)]
    assert not np.array_equal(draws[1], draws[2])
    ember.manual_seed(0)
    eager = [F.dropout(x, 0.5)._data for _ in range(3)]
    for a, b in zip(draws, eager):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------------- guards and cache
def test_shape_change_recompiles_and_reports():
    f = ember.compile(lambda x: x.sum(0))
    assert f(ember.ones(2, 3)).tolist() == [2.0] * 3
    assert f(ember.ones(4, 3)).tolist() == [4.0] * 3
    assert f(ember.ones(2, 3)).tolist() == [2.0] * 3
    assert len(f.cache) == 2
    assert any("shape (2, 3) -> (4, 3)" in line for line in f.log)


def test_dtype_and_requires_grad_recompile():
    f = ember.compile(lambda x: x * 2)
    assert f(ember.ones(2)).dtype == ember.float32
    assert f(ember.ones(2, dtype=ember.float64)).dtype == ember.float64
    f(ember.ones(2, requires_grad=True))
    assert len(f.cache) == 3


def test_train_eval_switch_recompiles():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    compiled = ember.compile(model)
    x = ember.ones(3, 4)
    with ember.no_grad():
        compiled(x)
        model.eval()
        a, b = compiled(x), compiled(x)
    np.testing.assert_array_equal(a._data, b._data)
    np.testing.assert_allclose(a._data, model[0](x)._data.copy() * 0 + model(x)._data, rtol=1e-6)
    assert any("training changed True -> False" in line for line in compiled._compiled_call.log)


def test_lru_eviction_warns():
    ember.compiler.config.cache_size_limit = 2
    try:
        f = ember.compile(lambda x: x + 1)
        f(ember.ones(1))
        f(ember.ones(2))
        with pytest.warns(UserWarning, match="cache_size_limit"):
            f(ember.ones(3))
        assert len(f.cache) == 2
    finally:
        ember.compiler.config.cache_size_limit = 8


# ---------------------------------------------------------------------------------------------- graph breaks
def test_fullgraph_error_names_the_line_and_fix():
    @ember.compile(fullgraph=True)
    def f(x):
        if x.sum() > 0:  # data-dependent control flow
            return x * 2
        return x

    with pytest.raises(ember.compiler.GraphBreakError) as info:
        f(ember.ones(2))
    message = str(info.value)
    assert "if x.sum() > 0" in message and "test_compile.py" in message
    assert "Fix:" in message and "ember.where" in message


@pytest.mark.parametrize("body", ["item", "tolist", "print"])
def test_graph_break_falls_back_to_eager_with_one_warning(body, capsys):
    def f(x):
        y = x * 2
        if body == "item":
            return y + y.sum().item()
        if body == "tolist":
            return y + len(y.tolist())
        print(y)
        return y

    compiled = ember.compile(f)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outs = [compiled(ember.full((2,), float(i))) for i in range(3)]
    assert len([w for w in caught if "runs eagerly" in str(w.message)]) == 1
    for i, out in enumerate(outs):
        np.testing.assert_allclose(out._data, f(ember.full((2,), float(i)))._data)


def test_setting_grad_to_none_inside_the_step_is_replayed():
    layer = nn.Linear(3, 2)
    x = ember.ones(4, 3)

    def step():
        for p in layer.parameters():
            p.grad = None  # instead of optimizer.zero_grad(): must reset at every call, not only the first
        loss = layer(x).square().sum()
        loss.backward()
        return loss

    compiled = ember.compile(step, fullgraph=True)
    grads = []
    for _ in range(3):
        compiled()
        grads.append(layer.bias.grad.numpy().copy())
    step()
    for got in grads:
        np.testing.assert_allclose(got, layer.bias.grad.numpy(), rtol=1e-6)


def test_assigning_a_tensor_to_grad_is_a_graph_break():
    w = ember.ones(2, requires_grad=True)

    def step():
        w.grad = ember.zeros(2)
        (w * 3.0).sum().backward()
        return w.grad

    with pytest.raises(ember.compiler.GraphBreakError, match=r"\.grad.*Fix:"):
        ember.compile(step, fullgraph=True)()
    compiled = ember.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [compiled().tolist() for _ in range(2)]
    assert results == [[3.0, 3.0], [3.0, 3.0]]
    assert len([c for c in caught if "runs eagerly" in str(c.message)]) == 1


def test_random_drawn_outside_the_registry_is_a_break():
    @ember.compile(fullgraph=True)
    def f(x):
        return x + ember.rand(2)

    with pytest.raises(ember.compiler.GraphBreakError, match="random numbers"):
        f(ember.ones(2))


def test_write_outside_registry_is_detected():
    def setitem(x):
        y = x * 1
        y[0] = 5.0
        return y + 1

    def out_argument(x):
        y = ember.zeros(2)
        ember.mul(x, 2, out=y)
        return y + 1

    for fn in (setitem, out_argument):
        with pytest.raises(ember.compiler.GraphBreakError, match="written in place outside"):
            ember.compile(fn, fullgraph=True)(ember.ones(2))
        compiled = ember.compile(fn)
        with pytest.warns(UserWarning, match="runs eagerly"):
            compiled(ember.ones(2))
        for i in range(3):
            x = ember.full((2,), float(i))
            np.testing.assert_array_equal(compiled(x)._data, fn(x)._data)


# ---------------------------------------------------------------------------------------------- explain and debug
def test_explain_prints_graph_fusion_and_memory(capsys):
    model, opt = _setup("mlp")
    x, y = _data("mlp", 0)
    out = ember.compiler.explain(_train_step(model, opt), x, y)
    text = capsys.readouterr().out
    assert "linear" in text and "SGD.step()" in text and "accumulate_grad" in text
    assert re.search(r"activations: [\d.]+ MB -> [\d.]+ MB", text)
    assert out.graph_break_count == 0
    fused = ember.compiler.explain(lambda a: (a * 2 + 1).tanh(), ember.ones(3))
    assert "fusion group 0" in fused.text


def test_explain_reports_breaks_and_recompiles(capsys):
    f = ember.compile(lambda x: x + 1)
    f(ember.ones(1))
    f(ember.ones(2))
    report = ember.compiler.explain(f, ember.ones(3))
    assert "recompile" in report.text and "shape (1,) -> (2,)" in report.text
    broken = ember.compiler.explain(lambda x: x.sum().item(), ember.ones(2))
    assert broken.graph_break_count == 1 and "`.item()`" in broken.text


def test_debug_env_prints_on_capture(monkeypatch, capsys):
    monkeypatch.setenv("EMBER_DEBUG", "1")
    f = ember.compile(lambda x: x + 1)
    f(ember.ones(1))
    f(ember.ones(2))
    err = capsys.readouterr().err
    assert "graph:" in err and "activations:" in err and "recompiling" in err


def test_debug_env_prints_the_graph_after_each_pass(monkeypatch, capsys):
    monkeypatch.setenv("EMBER_DEBUG", "1")
    f = ember.compile(lambda x: (x * 2.0 + 1.0).relu())
    f(ember.ones(3))
    err = capsys.readouterr().err
    assert err.count("[ember.compile] after ") == 7
    assert "[ember.compile] after fusion: 1 groups, 0 scale/mask/softmax chains\ngraph: 1 nodes (1 fused)" in err


def test_passes_leave_the_graph_they_are_given_as_it_was():
    from ember.compiler.capture import capture
    from ember.compiler.passes import run_passes

    def f(x):
        with ember.no_grad():
            y = (x * 1.0) * ember.arange(3.0).exp()  # a constant to fold, an identity to drop
            return (y + 1.0).relu() + (y + 1.0).relu()  # a repeat to merge, elementwise ops to fuse

    captured = capture(f, (ember.ones(3),), {}).graph
    before = (captured.format(), [(s.kind, s.alias) for s in captured.slots], list(captured.constants))
    graph, log = run_passes(captured)
    assert log[:3] == ["constants: 1 ops folded", "simplify: 1 ops dropped", "cse: merged 2 nodes"]
    assert log[4].startswith("fusion: 1 groups") and graph is not captured
    assert (captured.format(), [(s.kind, s.alias) for s in captured.slots], list(captured.constants)) == before


def test_replayed_gradients_are_fresh_arrays_each_step():
    """A replayed step hands its gradient arrays to ``.grad`` without copying them, but never an array a later
    call writes again: a ``.grad`` kept from one step does not change in the next."""
    model, opt = _setup("mlp")
    step = ember.compile(_train_step(model, opt))
    x, y = _data("mlp", 0)
    step(x, y)
    step(x, y)
    kept = [p.grad for p in model.parameters()]
    values = [g.numpy().copy() for g in kept]
    step(x, y)
    for g, value in zip(kept, values):
        np.testing.assert_array_equal(g.numpy(), value)
    assert all(p.grad is not g for p, g in zip(model.parameters(), kept))
