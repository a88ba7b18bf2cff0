"""The compiled executor's arena (out= buffers reused across a step), and compiled training equal to eager."""

import numpy as np

import ember


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
    writer_of = {n.outputs[0]: i for i, n in enumerate(graph.nodes) if n.outputs}  # plan.buffer_of is by value slot
    linear_buffer = plan.buffer_of[graph.nodes[first_linear].outputs[0]]
    shared = [writer_of[s] for s, b in plan.buffer_of.items() if b == linear_buffer and writer_of[s] != first_linear]
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
        assert plan.buffer_of[graph.nodes[i].outputs[0]] == plan.buffer_of[graph.nodes[linear].outputs[0]]


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
