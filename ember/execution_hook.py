"""The one hook through which ``ember.compile`` watches eager execution: nothing is monkeypatched.

While a hook is installed, every place where eager execution does something a captured graph must record,
replay or refuse hands that work to it:

- op dispatch and in-place ops (``ember/ops/registry.py``): ``call_op(op, args, attrs, run)`` and
  ``call_inplace(op, target, args, attrs, run)``, which return what ``run(op, args, attrs)`` /
  ``run(op, target, args, attrs)`` (the dispatch itself, past the hook) returns;
- tensor construction (``ember.tensor.from_array``): ``tensor_made(t)``; a function whose result depends only
  on its Python arguments (``ember.zeros``, ``ember.arange``, the engine's gradient seed ...) also reports
  ``constant_made(t)``;
- the autograd engine: ``call_backward(node, grads, run)`` and ``accumulate(accumulator, grad, create_graph,
  run)``, where ``run`` does the real work;
- Python work a graph replays or refuses: ``host_call(description, call, outputs=False)`` (optimizer and
  module ``zero_grad``, scheduler steps, dropout masks; ``call()`` calls that method again, so it must run
  with the hook suspended), ``value_read(what)`` (a tensor's value going to
  Python: ``item()``, ``bool(t)``, printing ...), ``grad_assigned(tensor, value)`` (``leaf.grad = ...``; True
  when the hook took care of it) and ``module_called(module)``.

With no hook installed (``ACTIVE is None``) each of those places costs one attribute read. While a hook is
installed, functions made by ``ember.compile`` run their Python eagerly (their ops reach the hook), as they do
inside a function ``ember.compile`` is capturing.

>>> import ember
>>> class CountingOps(Hook):
...     def __init__(self):
...         self.ops = []
...     def call_op(self, op, args, attrs, run):
...         self.ops.append(op.name)
...         return run(op, args, attrs)
>>> counting = CountingOps()
>>> with installed(counting):
...     y = ember.ones(2) * 3
>>> counting.ops, y
(['mul'], tensor([3., 3.]))
"""

from __future__ import annotations

from contextlib import contextmanager

__all__ = ["Hook", "install", "uninstall", "installed", "suspended", "mirror"]  # read the hook as execution_hook.ACTIVE

ACTIVE = None  # the installed hook, or None
# Hot paths (op dispatch, tensor construction) read the hook as a global of their own module, a little cheaper
# than this module's attribute on every op: (module namespace, name) pairs that mirror ACTIVE.
_MIRRORS: list = []


def mirror(namespace: dict, name: str) -> None:
    """Keep ``namespace[name]`` equal to the installed hook (for a module whose every call reads it).

    >>> namespace = {}
    >>> mirror(namespace, "HOOK"); namespace
    {'HOOK': None}
    >>> _MIRRORS.remove((namespace, "HOOK"))
    """
    namespace[name] = ACTIVE
    _MIRRORS.append((namespace, name))


def _set(hook) -> None:
    global ACTIVE
    ACTIVE = hook
    for namespace, name in _MIRRORS:
        namespace[name] = hook


def install(hook) -> None:
    """Make ``hook`` the receiver of eager execution (see the module docstring); one hook at a time."""
    if ACTIVE is not None and ACTIVE is not hook:
        raise RuntimeError("ember.execution_hook: another hook is installed (one capture at a time)")
    _set(hook)


def uninstall() -> None:
    """Remove the installed hook (none: nothing happens)."""
    _set(None)


@contextmanager
def installed(hook):
    """``hook`` installed for the ``with`` block."""
    install(hook)
    try:
        yield hook
    finally:
        uninstall()


@contextmanager
def suspended():
    """No hook for the ``with`` block (the hook runs the real work inside it), then the same hook again."""
    hook = ACTIVE
    _set(None)
    try:
        yield hook
    finally:
        _set(hook)


class Hook:
    """A hook that changes nothing: each method does the work eager mode does, and what happens inside it (the
    ops of a backward formula, say) still reaches the hook. Subclass it and override what you watch
    (``ember.compile``'s capture overrides everything)."""

    def call_op(self, op, args, attrs, run):
        return run(op, args, attrs)

    def call_inplace(self, op, target, args, attrs, run):
        return run(op, target, args, attrs)

    def tensor_made(self, t):
        pass

    def constant_made(self, result):
        pass

    def call_backward(self, node, grads, run):
        return run(node, grads)

    def accumulate(self, accumulator, grad, create_graph, run):
        return run(grad, create_graph)

    def host_call(self, description, call, outputs=False):
        with suspended():  # call() goes through the method that called the hook again
            return call()

    def value_read(self, what):
        pass

    def grad_assigned(self, tensor, value) -> bool:
        return False

    def module_called(self, module):
        pass
