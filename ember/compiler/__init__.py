"""``ember.compile``: capture a function (or a Module's forward, or a whole training step) once, then replay
it as one graph of NumPy kernels.

>>> import ember
>>> @ember.compile
... def scaled(x, factor):
...     return (x * factor).sum()
>>> scaled(ember.ones(3), 2.0), scaled(ember.ones(3), 2.0), scaled(ember.ones(3), 3.0)
(tensor(6.), tensor(6.), tensor(9.))

A training step (forward, ``backward()`` and ``optimizer.step()``) is one graph; the parameters, gradients,
optimizer state, buffers and the random generator are read and written in place, so the compiled step and
eager mode give the same numbers step after step. A replayed training step returns its loss as a plain
tensor with no ``grad_fn`` (its backward already ran inside the graph); a compiled function that only runs a
forward returns tensors that carry their autograd graph, for a ``backward()`` outside.

Inside: ``capture.py`` records the graph (``graph.py``), the passes (``passes/``) rewrite it into new graphs
(fused, folded and recomputing nodes in place of the captured ones), ``memory_plan.py`` plans its buffers and
``executor.py`` runs its nodes; ``cache.py`` keeps one graph per guard key. ``explain(fn, *args)`` prints the
final graph, each pass's summary, the fusion groups, the memory plan and every recompile or graph break;
``EMBER_DEBUG=1`` prints the same as it happens, with the graph after each pass.
"""

from __future__ import annotations

__all__ = ["compile", "explain", "reset", "GraphBreakError", "config", "ExplainOutput"]


class GraphBreakError(RuntimeError):
    """``fullgraph=True`` and the function cannot be captured as one graph (the message names the line)."""


class config:
    """Compiler settings: ``cache_size_limit`` graphs per compiled function (least recently used evicted);
    ``recompute_attention`` (off by default, as torch.compile recomputes no matmul): a training step recomputes
    attention probabilities in backward instead of keeping them (passes/remat.py; measured on the GPT benchmark:
    9% less step memory, 4% more time). Settings apply to graphs captured after the change."""

    cache_size_limit = 8
    recompute_attention = False


_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
_COMPILED: list = []


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor", mode=None, options=None,
            disable: bool = False):
    """Compile a function or Module, as ``torch.compile``; usable as ``@ember.compile`` or
    ``@ember.compile(fullgraph=True)``.

    The first call with given argument shapes/dtypes/scalars runs eagerly while capturing the graph; later
    calls replay it. Shape, dtype, requires_grad, aliasing, Python scalar arguments, grad mode, module
    attributes (``train()``/``eval()``) and the globals the function reads are guarded: a change recompiles.
    ``dynamic`` and ``backend``/``options`` are accepted for compatibility (shapes are always specialized);
    ``mode`` may be any of torch's mode names.

    >>> model = ember.nn.Linear(3, 2)
    >>> compiled = ember.compile(model)
    >>> x = ember.ones(4, 3)
    >>> bool(ember.allclose(compiled(x), model(x)))
    True
    """
    if mode not in _MODES:
        raise RuntimeError(f"ember.compile: unknown mode {mode!r}; valid modes are {list(_MODES[1:])}")
    if dynamic not in (None, True, False):
        raise TypeError(f"ember.compile: dynamic must be None, True or False, got {dynamic!r}")
    if model is None:
        def decorator(fn):
            return compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode, options=options,
                           disable=disable)
        return decorator
    if not callable(model):
        raise TypeError(f"ember.compile expects a function or an ember.nn.Module, got {type(model).__name__}")
    if disable:
        return model
    from ember.compiler.cache import CompiledFunction
    from ember.nn import Module
    if isinstance(model, Module):
        compiled = CompiledFunction(model, fullgraph=fullgraph, dynamic=dynamic, mode=mode, module=model)
        _COMPILED.append(compiled)
        return _optimized_module(model, compiled)
    compiled = CompiledFunction(model, fullgraph=fullgraph, dynamic=dynamic, mode=mode)
    _COMPILED.append(compiled)
    return compiled


def _optimized_module(module, compiled):
    from ember.compiler.module import OptimizedModule
    return OptimizedModule(module, compiled)


def reset() -> None:
    """Forget every compiled graph (as ``torch._dynamo.reset()``); the next calls capture again.

    >>> ember.compiler.reset()
    """
    for compiled in _COMPILED:
        compiled.cache.clear()
        compiled.log.clear()
        compiled.warned_break = False


class ExplainOutput:
    """What ``explain`` found: the report text, the graph breaks, and the compiled function's log."""

    def __init__(self, text, breaks, graph):
        self.text = text
        self.graph_breaks = breaks
        self.graph = graph

    @property
    def graph_break_count(self) -> int:
        return len(self.graph_breaks)

    def __str__(self):
        return self.text

    __repr__ = __str__


def explain(fn, *args, **kwargs) -> ExplainOutput:
    """Capture ``fn(*args, **kwargs)`` (running it once, eagerly) and print the graph, fusion groups, memory
    plan, graph breaks and the recompile history; returns an :class:`ExplainOutput`.

    >>> out = ember.compiler.explain(lambda x: (x * 2).relu().sum(), ember.ones(3))  # doctest: +ELLIPSIS
    mode: graph
    graph: 2 nodes (1 fused, 1 op), ...
    >>> out.graph_break_count
    0
    """
    from ember.compiler.cache import CompiledFunction
    from ember.compiler.guards import signature
    from ember.compiler.module import OptimizedModule
    if isinstance(fn, OptimizedModule):
        fn = fn._compiled_call
    compiled = fn if isinstance(fn, CompiledFunction) else CompiledFunction(fn)
    key, _ = signature((args, kwargs))
    compiled._compile(key, None, args, kwargs, explain=True)
    entry = compiled.last_entry
    lines = [entry.report()]
    if compiled.log:
        lines.append("history:")
        lines.extend(f"  {line}" for line in compiled.log)
    text = "\n".join(lines)
    print(text)
    return ExplainOutput(text, entry.breaks, entry.graph)
