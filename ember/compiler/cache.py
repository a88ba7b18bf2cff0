"""Compiled functions and their bounded cache of graphs, one per guard key.

A call computes the key of its arguments (``guards.signature``); a hit whose extra guards still hold replays
the graph; a miss captures a new graph (running the function eagerly once), evicting the least recently
used entry, with a warning, when the cache is full. A function whose capture hit a graph break runs
eagerly (one warning per compiled function), or raises with ``fullgraph=True``.

>>> import ember
>>> double = CompiledFunction(lambda x: x * 2)
>>> double(ember.ones(2)), double(ember.tensor([1.0, 3.0])), len(double.cache)
(tensor([2., 2.]), tensor([2., 6.]), 1)
"""

from __future__ import annotations

import sys
import warnings
from collections import OrderedDict

from ember import execution_hook as _execution_hook
from ember import flags
from ember.compiler import config
from ember.compiler.capture import capture, module_scalars
from ember.compiler.executor import ArrayExecutor, AutogradExecutor
from ember.compiler.graph import FusedNode
from ember.compiler.guards import check_code_guards, code_guards, describe_change, signature
from ember.compiler.lowering import out_writer
from ember.compiler.memory_plan import plan_memory
from ember.compiler.passes import run_passes

__all__ = ["CompiledFunction", "Entry"]


class Entry:
    """One cached graph (the one the passes returned) or an eager fallback, with the guards beyond its key."""

    def __init__(self, key, captured, graph, fn, code_fn, pass_log):
        self.key = key
        self.graph = graph
        self.breaks = captured.breaks if captured is not None else []
        self.modules = [(m, module_scalars(m)) for m in captured.modules] if captured is not None else []
        self.code_fn = code_fn
        self.code_guard = code_guards(code_fn) if code_fn is not None else ()
        self.pass_log = pass_log
        self.plan = None
        self.executor = None
        self.mode = "eager"
        if captured is not None and not captured.breaks:
            has_backward = any(n.kind in ("backward", "accumulate") for n in graph.nodes)
            self.mode = "autograd" if captured.outputs_need_grad and not has_backward else "graph"
        if self.mode == "autograd":
            self.plan = plan_memory(graph)
            self.executor = AutogradExecutor(graph)
        elif self.mode == "graph":
            writers = {}  # output slot -> out= writer, for each node (or fused node's member) that has one
            for _, node in graph.units():
                writer = out_writer(node, graph)
                if writer is not None:
                    writers[node.outputs[0]] = writer
            self.plan = plan_memory(graph, writers)
            self.executor = ArrayExecutor(graph, self.plan, writers)
        self.fn = fn
        self.calls = 0

    def failed_guard(self):
        """``None`` while the entry may run, else why not (a sentence)."""
        for module, expected in self.modules:
            current = module_scalars(module)
            if current != expected:
                for name in sorted(set(current) | set(expected)):
                    if current.get(name) != expected.get(name):
                        return (f"{type(module).__name__}.{name} changed {expected.get(name)!r} -> "
                                f"{current.get(name)!r}")
        if self.code_fn is not None:
            return check_code_guards(self.code_fn, self.code_guard)
        return None

    def run(self, args, kwargs, tensors):
        self.calls += 1
        if self.mode == "eager":
            return self.fn(*args, **kwargs)
        return self.executor(tensors)

    def report(self) -> str:
        lines = [f"mode: {self.mode}"]
        for found in self.breaks:
            lines.append(f"graph break: {found.message()}")
        if self.graph is not None:
            lines.append(self.graph.format())
            lines.extend(f"pass {line}" for line in self.pass_log)
            compiled = {id(node): kernel for node, kernel in self.executor.fused} if self.mode == "graph" else {}
            groups = [(i, node) for i, node in enumerate(self.graph.nodes) if isinstance(node, FusedNode)]
            for number, (i, node) in enumerate(groups):
                names = " -> ".join(member.op.name for member in node.members)
                kernel = compiled.get(id(node))
                how = f" -> one C loop: out = {kernel.expression}" if kernel is not None else " (run op by op)"
                lines.append(f"fusion group {number}: node {i}: {names}{how}")
            if self.plan is not None:
                lines.append(self.plan.describe())
        return "\n".join(lines)


class CompiledFunction:
    """``fn`` with a bounded cache of captured graphs; call it like ``fn``."""

    def __init__(self, fn, *, fullgraph=False, dynamic=None, mode=None, module=None):
        self.fn = fn
        self.fullgraph = fullgraph
        self.dynamic = dynamic
        self.mode = mode
        self.module = module
        self.cache: OrderedDict = OrderedDict()
        self.log: list = []   # recompile reasons and graph breaks, newest last
        self.warned_break = False
        self.code_fn = _code_function(fn)
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)
        self.__qualname__ = getattr(fn, "__qualname__", self.__name__)
        self.__doc__ = getattr(fn, "__doc__", None)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return _BoundCompiled(self, instance)

    def __call__(self, *args, **kwargs):
        if _execution_hook.ACTIVE is not None:  # an outer compiled function captures (or another hook watches): inline it
            return self.fn(*args, **kwargs)
        key, tensors = signature((args, kwargs))
        entry = self.cache.get(key)
        if entry is not None:
            failure = entry.failed_guard()
            if failure is None:
                self.cache.move_to_end(key)
                return entry.run(args, kwargs, tensors)
            reason = failure
        elif self.cache:
            reason = describe_change(next(reversed(self.cache)), key) or "a new argument signature"
        else:
            reason = None
        return self._compile(key, reason, args, kwargs)

    def _compile(self, key, reason, args, kwargs, explain=False):
        if reason is not None:
            self.log.append(f"recompile {self.__qualname__}: {reason}")
            if flags.DEBUG.enabled():
                print(f"[ember.compile] recompiling {self.__qualname__}: {reason}", file=sys.stderr)
        captured = capture(self.fn, args, kwargs, fullgraph=self.fullgraph, module=self.module)
        graph, pass_log = run_passes(captured.graph) if not captured.breaks else (captured.graph, [])
        entry = Entry(key, captured, graph, self.fn, self.code_fn, pass_log)
        if captured.breaks:
            for found in captured.breaks:
                self.log.append(f"graph break in {self.__qualname__}: {found.message()}")
            if not self.warned_break:
                self.warned_break = True
                warnings.warn(f"ember.compile: {self.__qualname__} runs eagerly: {captured.breaks[0].message()} "
                              "(pass fullgraph=True to make this an error)", stacklevel=3)
        self.cache[key] = entry
        self.cache.move_to_end(key)
        while len(self.cache) > config.cache_size_limit:
            old_key, _ = self.cache.popitem(last=False)
            self.log.append(f"evicted a graph of {self.__qualname__} (cache_size_limit={config.cache_size_limit})")
            warnings.warn(f"ember.compile: {self.__qualname__} hit cache_size_limit ({config.cache_size_limit}): "
                          f"evicting the least recently used graph. Frequent recompiles ({reason or 'new inputs'}) "
                          "mean the guards keep changing: keep shapes, dtypes and Python scalar arguments fixed, or "
                          "raise ember.compiler.config.cache_size_limit.", stacklevel=3)
        if flags.DEBUG.enabled() and not explain:
            print(f"[ember.compile] {self.__qualname__}\n{entry.report()}", file=sys.stderr)
        self.last_entry = entry
        return captured.value


class _BoundCompiled:
    """A compiled function bound to an instance: the instance is its first argument, and part of the guards."""

    def __init__(self, compiled, instance):
        self.compiled = compiled
        self.instance = instance

    def __call__(self, *args, **kwargs):
        return self.compiled(self.instance, *args, **kwargs)


def _code_function(fn):
    if hasattr(fn, "__code__"):
        return fn
    forward = getattr(type(fn), "forward", None)
    if forward is not None and hasattr(forward, "__code__"):
        return forward
    return None
