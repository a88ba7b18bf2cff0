"""The op registry: one definition per op that eager mode, autograd, autocast, the compiler and ONNX
export all read.

An op is a class turned into an :class:`OpDef` by ``@register_op``; every fact about the op is an
attribute of that class, and nothing outside it decides by the op's name how to treat it::

    @register_op
    class Mul:
        '''``input * other``.  (the docstring of ember.mul, with an example that runs)'''
        name = "mul"                # registry key
        kind = "elementwise"        # elementwise | reduce | movement | matmul | index | opaque | creation
        promote = "standard"        # dtype rule: standard | float | compare | none | a function
        save = ("inputs",)          # what backward reads: "inputs", "output", or nothing
        ufunc = np.multiply         # optional: lets in-place variants write with out=
        names = ("mul", "multiply") # the public function ember.mul (and its alias ember.multiply)
        method = True               # ... which is also Tensor.mul / Tensor.multiply
        inplace = True              # ... with the in-place forms ember.mul_ / Tensor.mul_ (and multiply_)

        def forward(a, b):          # NumPy arrays in, NumPy array(s) out; `ctx` first to stash data
            return np.multiply(a, b)

        def backward(ctx, grad):    # ember Tensors in and out, so double backward works
            a, b = ctx.inputs
            return grad * b, grad * a

        # optional facts ember.compile reads (the compiler never asks an op's name):
        c_form = "({a} * {b})"      # the float32 C expression of a fusion loop (NumPy's exact operation)
        identities = ((0, 1, 1), (1, 0, 1))  # (operand kept, operand that is the number, number): x*1, 1*x
        softmax_chain_role = "scale"  # scale | mask | softmax: its place in softmax(masked_fill(x * s, m, v))

Other optional facts, each read from the class with a default of "no": ``keep_inputs(edges)`` (which saved
operands backward reads); ``involution = True`` (``op(op(x)) == x`` exactly, as ``-(-x)``);
``recomputable`` (True, or a function of the attributes: the output may be recomputed in backward from the
inputs the op keeps anyway); ``release_saved(ctx)`` / ``restore_saved(ctx)`` (drop intermediates stashed on
``ctx`` after forward, rebuild them before backward); ``replay_forward(ctx, *arrays, **attrs)`` /
``replay_backward(ctx, *grads)`` (what a compiled graph runs instead of forward/backward, on arrays, keeping
less on ``ctx``; they return None to decline); ``forward_into(out, *arrays, **attrs)`` (writes the result into
``out``) with ``can_forward_into(out, *operands, **attrs)`` (whether it may, operands as arrays of the right
shape and dtype); ``per_channel_weight_bias = (1, 2)`` (the positions of a weight and bias the op is linear in
per output channel); ``channel_affine(weight, bias, dtype, **attrs)`` (``(scale, center, shift)`` when the op
is ``(x - center) * scale + shift`` per channel, else None); ``plain_matmul = True`` (a matrix product with
nothing else, which attention recomputation may run again); ``random = True`` (it draws from a generator, so
the compiler never folds, merges or drops it); ``view = True`` (the result shares the operand's memory) with
``replay_op`` (the op autograd replays the view with after an in-place write, e.g. view's is reshape).

The user-facing forms are generated from the definition (see :func:`register_op`): the function
(``names``; ``out=`` added unless ``out = False``; its docstring is the class's), the ``Tensor`` methods
(``method``), and the in-place forms (``inplace``); its operands are named as PyTorch names them and may be
passed by keyword (``operands = ("input", "exponent")``; an elementwise op's default is ``input``, ``other``). A
dotted name puts the function in that namespace
(``"linalg.inv"`` is ``ember.linalg.inv``; ``"Tensor.repeat"`` is a method only), and ``functional = True`` (or
``"only"``) puts it in ``ember.nn.functional`` too (or only there). A class whose public function must translate its
arguments defines ``function(...)`` (the body of the public function, calling the op) and, where the
in-place form needs the same translation, ``inplace(self, ...)``. Functions built from other ops, with
no forward of their own, are registered with :func:`register_function` and get the same forms.

Positional arguments of an op call are its tensor operands (Python scalars allowed); keyword arguments
are attributes passed to ``forward`` unchanged. ``OpDef.__call__`` is the eager dispatch path: keep it
lean, it runs for every op.
"""

from __future__ import annotations

import inspect
import sys
from types import FunctionType

import numpy as np

from ember import dtypes as _dt
from ember import execution_hook as _execution_hook
from ember.autograd.engine import Node, edge_of
from ember.autograd.grad_mode import STATE
# check_inplace_allowed is also imported from here by the op families.
from ember.autograd.views import check_inplace_allowed, link_view, rebase_history
from ember.errors import broadcast_message, op_error
from ember.tensor import Tensor, VersionCounter, from_array

__all__ = ["register_op", "register_function", "unregister", "OpDef", "REGISTRY", "PUBLIC", "FUNCTIONAL", "TENSOR_METHODS",
           "apply_inplace", "write_out"]

REGISTRY: dict = {}
_HOOK = None  # the installed execution hook (ember/execution_hook.py keeps this global equal to it)
_execution_hook.mirror(globals(), "_HOOK")

KINDS = ("elementwise", "reduce", "movement", "matmul", "index", "opaque", "creation")
_PROMOTIONS = ("standard", "float", "compare", "none")

_BY_NUMPY = _dt._BY_NUMPY
_float32 = _dt.float32


class _Scratch:
    """Holds what forward stashes on ``ctx`` when no graph is recorded."""


def recording(ctx) -> bool:
    """Whether a forward's ``ctx`` is kept for a backward (not the scratch ctx of untracked work), so the
    forward may skip what only backward reads."""
    return ctx.__class__ is not _Scratch


def _always(attrs) -> bool:
    """``recomputable = True``: whatever the attributes."""
    return True


def _first_parameter(function):
    """The name of ``function``'s first parameter, or None (read from its code object: ``inspect.signature``
    on every op would cost milliseconds at ``import ember``)."""
    code = getattr(getattr(function, "__func__", function), "__code__", None)
    if code is None:
        params = list(inspect.signature(function).parameters)
        return params[0] if params else None
    return code.co_varnames[0] if code.co_argcount else None


class OpDef:
    """A registered op; calling it runs forward and records the autograd node when needed."""

    __slots__ = ("name", "kind", "forward", "backward", "promote", "save_inputs", "save_output",
                 "takes_ctx", "view", "allowed", "ufunc", "differentiable", "inplace_forward", "cls",
                 "promote_args", "same_dtype_fast", "fast_scalars", "keep_inputs", "replay_op", "random", "c_form",
                 "identities", "involution", "softmax_chain_role", "recomputable", "release_saved", "restore_saved",
                 "replay_forward", "replay_backward", "forward_into", "can_forward_into", "per_channel_weight_bias",
                 "channel_affine", "plain_matmul", "operands", "__dict__")

    def __init__(self, cls):
        self.cls = cls
        self.name = cls.name
        self.kind = getattr(cls, "kind", "opaque")
        if self.kind not in KINDS:
            raise ValueError(f"op {self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        self.forward = cls.__dict__["forward"]
        self.backward = cls.__dict__.get("backward")
        self.differentiable = self.backward is not None
        promote = getattr(cls, "promote", "standard")
        if not callable(promote) and promote not in _PROMOTIONS:
            raise ValueError(f"op {self.name}: promote must be one of {_PROMOTIONS} or a function")
        self.promote = promote
        save = getattr(cls, "save", ())
        if isinstance(save, str):
            save = (save,)
        self.save_inputs = "inputs" in save
        # ``keep_inputs(next_edges) -> one bool per operand``: which saved operands backward reads (default all)
        self.keep_inputs = cls.__dict__.get("keep_inputs")
        self.save_output = "output" in save
        self.takes_ctx = _first_parameter(self.forward) == "ctx"
        self.view = getattr(cls, "view", False)
        # draws from a random generator: each call differs, so the compiler never folds, merges or drops it
        self.random = getattr(cls, "random", False)
        # The op that takes this view again of an operand of any layout: an in-place write through a view
        # replays it on the gradient, which may be broadcast or transposed where the operand was not.
        self.replay_op = getattr(cls, "replay_op", None) or self
        allowed = getattr(cls, "allowed", None)  # a set of categories: 0 bool, 1 integer, 2 floating
        self.allowed = frozenset(allowed) if allowed is not None else None
        self.ufunc = getattr(cls, "ufunc", None)
        self.inplace_forward = cls.__dict__.get("inplace_forward")
        # Which positional operands take part in promotion and are cast (e.g. not where's condition).
        self.promote_args = getattr(cls, "promote_args", None)
        self.same_dtype_fast = self._same_dtype_fast()
        # A promote function sees Python numbers as they are; the built-in rules cast them to the result dtype.
        self.fast_scalars = not callable(promote)
        # Facts ember.compile reads (see the module docstring); each defaults to "no".
        self.c_form = getattr(cls, "c_form", None)
        self.identities = tuple(getattr(cls, "identities", ()))
        self.involution = getattr(cls, "involution", False)
        self.softmax_chain_role = getattr(cls, "softmax_chain_role", None)
        recomputable = getattr(cls, "recomputable", None)
        self.recomputable = recomputable if callable(recomputable) else (_always if recomputable else None)
        self.release_saved = getattr(cls, "release_saved", None)
        self.restore_saved = getattr(cls, "restore_saved", None)
        self.replay_forward = getattr(cls, "replay_forward", None)
        self.replay_backward = getattr(cls, "replay_backward", None)
        self.forward_into = getattr(cls, "forward_into", None)
        self.can_forward_into = getattr(cls, "can_forward_into", None)
        self.per_channel_weight_bias = getattr(cls, "per_channel_weight_bias", None)
        self.channel_affine = getattr(cls, "channel_affine", None)
        self.plain_matmul = getattr(cls, "plain_matmul", False)
        # the names of the public function's operands, which may be passed by keyword (see _operand_names)
        self.operands = _operand_names(self, cls)
        if self.name in REGISTRY:
            raise ValueError(f"op {self.name!r} is registered twice")
        REGISTRY[self.name] = self

    def __repr__(self):
        return f"<op {self.name} ({self.kind})>"

    def _same_dtype_fast(self):
        """The dtypes ``d`` for which operands that are all tensors of dtype ``d`` go to forward as they are.

        For those, ``compute_dtype`` returns ``d`` (or None) and raises nothing, so dispatch may skip the
        promotion and the casts; None when the op's rule must always run.
        """
        promote = self.promote
        if self.promote_args is not None:
            return None
        if callable(promote):
            kept = getattr(promote, "same_dtype_passes", None)
            return frozenset(kept) if kept is not None else None
        if promote == "none":
            return None
        allowed = self.allowed
        return frozenset(d for d in _dt.ALL_DTYPES if (allowed is None or d.category in allowed)
                         and (promote != "float" or d.category == 2))

    def compute_dtype(self, args):
        """The dtype operands are cast to before forward, or None when the op takes them as they are."""
        promote = self.promote
        if promote == "none":
            return None
        if self.promote_args is not None:
            args = [args[i] for i in self.promote_args if i < len(args)]
        if callable(promote):
            return promote(args)
        dt = _dt.result_type_of(args)
        if self.allowed is not None and dt.category not in self.allowed:
            raise op_error(RuntimeError, self.name, f'"{self.name}" not implemented for \'{_torch_type_name(dt)}\'')
        if promote == "float" and dt.category < 2:
            return _dt._default[0]
        return dt

    def __call__(self, *args, **attrs):
        if _HOOK is not None:  # ember.compile is capturing (ember/execution_hook.py)
            return _HOOK.call_op(self, args, attrs, dispatch)
        return dispatch(self, args, attrs)


_torch_type_name = _dt.torch_type_name


def register_op(cls) -> OpDef:
    """Register an op class (see the module docstring) and return its callable :class:`OpDef`.

    Besides the op itself, the class's ``names``, ``method``, ``inplace`` and ``out`` attributes (and its
    ``function``/``inplace``/``method`` bodies, when it defines them) make its user-facing forms: they are
    collected in :data:`PUBLIC` and :data:`TENSOR_METHODS`, which ``ember.ops`` exports and binds on
    ``Tensor``, and their docstring examples run with the family module's doctests.

    >>> REGISTRY["mul"] is ember.ops.arithmetic.Mul, PUBLIC["multiply"] is PUBLIC["mul"]
    (True, True)
    >>> ember.Tensor.mul_ is PUBLIC["mul_"]
    True
    """
    op = OpDef(cls)
    facts = cls.__dict__
    op.function = None  # the public function, for ops that have one
    if any(form in facts for form in _FORMS):
        op.function = _make_forms(facts.get("function") or _op_function(op, facts.get("out", True)), cls.__doc__,
                                  cls.__module__, op,
                                  **{form: facts[form] for form in _FORMS if form in facts and form != "function"})
    return op


_FORMS = ("names", "function", "method", "inplace", "out", "functional")


def register_function(function=None, *, names=None, method=False, inplace=False, out=False, functional=False,
                      constant=False):
    """Register ``function``, built from other ops (no forward or backward of its own), as public under
    ``names`` (default: its own name), with the same forms as an op's: ``method`` (True, a tuple of method
    names, or a method body), ``inplace`` (True: the result is written into the first argument; or an
    in-place body), ``out`` and ``functional``. ``constant``: the result depends only on the Python arguments
    (``ember.zeros``, ``ember.arange`` ...), so ``ember.compile`` may keep it as a constant of the graph.
    Returns what the module binds: ``function`` itself, or with ``out=`` added.

    >>> @register_function(method=True)
    ... def double_it(input):
    ...     \"\"\"``input * 2``.\"\"\"
    ...     return input * 2
    >>> ember.double_it(ember.ones(2)), ember.ones(2).double_it()
    (tensor([2., 2.]), tensor([2., 2.]))
    >>> unregister(double_it)
    """

    def register(body):
        # the module binds what this returns: its doctests find the function there, not in __test__
        made = _constant_result(body) if constant else body
        return _make_forms(made, body.__doc__, body.__module__, None, names=names or (body.__name__,), method=method,
                           inplace=inplace, out=out, functional=functional, doctest=False)

    return register if function is None else register(function)


# ------------------------------------------------------------------------------------ user-facing forms
# Public functions by namespace: "" is ember itself (ember.<name>); a dotted name in ``names``
# ("linalg.inv", "nn.functional.relu") puts the function in that namespace (ember.linalg.inv ...), and
# "Tensor.repeat" makes it a Tensor method only.
NAMESPACES: dict = {"": {}, "nn.functional": {}, "linalg": {}}
PUBLIC: dict = NAMESPACES[""]                  # name -> function: every family's public functions (ember.<name>)
FUNCTIONAL: dict = NAMESPACES["nn.functional"]  # ... the ones ember.nn.functional has (torch.nn.functional's)
TENSOR_METHODS: dict = {}  # name -> function: Tensor.<name>, bound by ember.ops (and at once once it is bound)
_SURFACE_BOUND = [False]  # ember.ops has exported every family: later definitions are added to the modules at once


def _constant_result(body):
    """``body`` whose result the execution hook (ember.compile's capture) learns is a constant."""
    def function(*args, **kwargs):
        result = body(*args, **kwargs)
        hook = _execution_hook.ACTIVE
        if hook is not None:
            hook.constant_made(result)
        return result
    function.__wrapped__ = body
    return function


def _operand_names(op, cls):
    """The names of ``op``'s operands in the public function :func:`register_op` generates for it, as PyTorch's
    (``torch.pow(input, exponent)``): the class's ``operands``, or for an elementwise op ``("input",)`` /
    ``("input", "other")`` by its forward's arity. Named operands may be passed by keyword and their count is
    checked; None (and for a class with a ``function`` body of its own): positional, any number.

    >>> REGISTRY["pow"].operands, REGISTRY["exp"].operands, REGISTRY["lt"].operands
    (('input', 'exponent'), ('input',), ('input', 'other'))
    """
    names = getattr(cls, "operands", None)
    if names is not None or op.kind != "elementwise" or "function" in cls.__dict__:
        return names
    forward = getattr(op.forward, "__func__", op.forward)  # a staticmethod's function (or ufunc)
    if isinstance(forward, np.ufunc):
        count = forward.nin
    else:
        code = getattr(forward, "__code__", None)
        if code is None:
            return None
        count = code.co_argcount - len(forward.__defaults__ or ()) - op.takes_ctx
    return {1: ("input",), 2: ("input", "other")}.get(count)


def _bind_operands(name, names, operands, attrs):
    """``operands`` completed from ``attrs`` by ``names``, or the TypeError Python gives a function with those
    parameters."""
    given = len(operands)
    if given > len(names):
        raise TypeError(f"{name}() takes {len(names)} positional argument{'s' * (len(names) != 1)} but {given} "
                        f"{'were' if given != 1 else 'was'} given")
    for taken in names[:given]:
        if taken in attrs:
            raise TypeError(f"{name}() got multiple values for argument {taken!r}")
    missing = [repr(needed) for needed in names[given:] if needed not in attrs]
    if missing:
        raise TypeError(f"{name}() missing {len(missing)} required argument{'s' * (len(missing) != 1)}: "
                        f"{', '.join(missing)}")
    return operands + tuple(attrs.pop(needed) for needed in names[given:])


def _op_function(op, out):
    """The public function of an op that takes its operands (by position, or by name when the op names them)
    and attributes as they are (and ``out=``)."""
    names = op.operands
    count = None if names is None else len(names)
    if not out:
        def function(*operands, **attrs):
            if len(operands) != count and names is not None:
                operands = _bind_operands(function.__name__, names, operands, attrs)
            return op(*operands, **attrs)
        return function

    def function_with_out(*operands, out=None, **attrs):
        if len(operands) != count and names is not None:
            operands = _bind_operands(function_with_out.__name__, names, operands, attrs)
        result = op(*operands, **attrs)
        return result if out is None else write_out(result, out)
    return function_with_out


def _takes_out(body) -> bool:
    """Whether ``body`` handles ``out=`` itself (the registry then adds no wrapper: one call frame less)."""
    code = getattr(body, "__code__", None)
    return code is not None and "out" in code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]


def _with_out(body):
    """``body`` with PyTorch's ``out=``: the result is copied into ``out`` (resized if it is empty)."""
    def function(*args, out=None, **kwargs):
        result = body(*args, **kwargs)
        return result if out is None else write_out(result, out)
    function.__wrapped__ = body
    return function


def _op_inplace(op):
    names = None if op.operands is None else op.operands[1:]  # the operands after the tensor written into
    count = None if names is None else len(names)

    def inplace(self, *args, **attrs):
        if len(args) != count and names is not None:
            args = _bind_operands(inplace.__name__, names, args, attrs)
        return apply_inplace(op, self, *args, **attrs)
    return inplace


def _composite_inplace(function, name):
    def inplace(self, *args, **kwargs):
        check_inplace_allowed(self, name)
        write_result_into(self, function(self, *args, **kwargs), name)
        return self
    return inplace


def _make_forms(body, doc, module_name, op, names=None, method=False, inplace=False, out=True, functional=False,
                doctest=True):
    """Build and export the function, method and in-place forms of ``body`` (see :func:`register_op`).

    ``names``: the function's names, the first canonical; a dotted name ("linalg.inv") is in that namespace
    ("Tensor.repeat": a Tensor method only).
    ``functional``: True when ``ember.nn.functional`` has each plain name too, ``"only"`` when only it has
    them. Returns the public function."""
    names = (op.name,) if names is None else (names,) if isinstance(names, str) else tuple(names)
    qualified = [_qualified(name, functional) for name in names]
    first_space, first_name = qualified[0][0]
    function = _with_out(body) if out and not _takes_out(body) else body
    prefix = f"ember.{first_space}." if first_space else "ember."
    _describe(function, first_name, doc, module_name, doctest)
    for places in qualified:
        _export(places, function)
    plain = [name for name in names if "." not in name]  # the names a Tensor method may take
    if method is True:
        for name in plain:
            _bind_method(name, function)
    elif isinstance(method, FunctionType):  # a method body of its own (e.g. argument order differs)
        _describe(method, first_name, method.__doc__ or doc, module_name)
        for name in plain:
            _bind_method(name, method)
    elif isinstance(method, (tuple, str)):
        for name in (method,) if isinstance(method, str) else method:
            _bind_method(name, function)
    if inplace:
        if inplace is not True:
            form = inplace
        elif op is not None:
            form = _op_inplace(op)
        else:
            form = _composite_inplace(function, first_name + "_")
        own_doc = inplace is not True and form.__doc__
        _describe(form, first_name + "_", form.__doc__ if own_doc else _inplace_doc(prefix, first_name, doc),
                  module_name)
        for places in qualified:
            _export([(space, name + "_") for space, name in places], form)
        if method:
            for name in plain:
                _bind_method(name + "_", form)
    function.forms = (function, method if isinstance(method, FunctionType) else None, form if inplace else None)
    return function


def _qualified(name, functional):
    """The (namespace, name) places a public name goes to."""
    space, _, short = name.rpartition(".")
    if space:
        return [(space, short)]
    if functional == "only":
        return [("nn.functional", name)]
    return [("", name), ("nn.functional", name)] if functional else [("", name)]


def _describe(function, name, doc, module_name, doctest=True):
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    function.__module__ = module_name
    if doctest and doc and ">>>" in doc:  # the example runs with its family module's doctests
        module = sys.modules[module_name]
        tests = module.__dict__.setdefault("__test__", {})
        tests.setdefault(name, function)


# The modules that show each namespace, once ember.ops has exported it (a definition registered later, by a
# user's extension, is added to them at once).
_NAMESPACE_MODULES = {"": ("ember.ops", "ember"), "nn.functional": ("ember.nn.functional",), "linalg": ("ember.linalg",)}


def _export(places, function):
    for space, name in places:
        if space == "Tensor":  # "Tensor.repeat": a method only, as in PyTorch (bound by _make_forms)
            _bind_method(name, function)
            continue
        table = NAMESPACES.setdefault(space, {})
        if name in table and table[name].__module__ != function.__module__:
            raise ValueError(f"public name {(space + '.' if space else '') + name!r} is defined twice "
                             f"({table[name].__module__} and {function.__module__})")
        table[name] = function
        if _SURFACE_BOUND[0]:
            for module_name in _NAMESPACE_MODULES.get(space, ()):
                if module_name in sys.modules:
                    setattr(sys.modules[module_name], name, function)


def _bind_method(name, function):
    TENSOR_METHODS[name] = function
    if _SURFACE_BOUND[0]:
        setattr(Tensor, name, function)


def unregister(definition) -> None:
    """Remove an op (its :class:`OpDef`) or a function from :func:`register_function`, with every form made from
    it: for a definition tried out in a session or a test, since a name is registered once.

    >>> @register_function(method=True)
    ... def halve(input):
    ...     \"\"\"``input / 2``.\"\"\"
    ...     return input / 2
    >>> ember.halve(ember.ones(1)), ember.ones(1).halve()
    (tensor([0.5000]), tensor([0.5000]))
    >>> unregister(halve); hasattr(ember, "halve"), hasattr(ember.Tensor, "halve")
    (False, False)
    """
    function = definition.function if isinstance(definition, OpDef) else definition
    forms = {id(f) for f in getattr(function, "forms", (function,)) if f is not None}
    for space, table in NAMESPACES.items():
        for name in [name for name, f in table.items() if id(f) in forms]:
            del table[name]
            for module_name in _NAMESPACE_MODULES.get(space, ()):
                module = sys.modules.get(module_name)
                if module is not None and id(module.__dict__.get(name)) in forms:
                    delattr(module, name)
    for name in [name for name, f in TENSOR_METHODS.items() if id(f) in forms]:
        del TENSOR_METHODS[name]
        if id(Tensor.__dict__.get(name)) in forms:
            delattr(Tensor, name)
    if isinstance(definition, OpDef):
        REGISTRY.pop(definition.name, None)


def _inplace_doc(prefix, name, doc):
    """The in-place form's docstring: what it does, and the function's first example run in place."""
    text = f"In-place :func:`{prefix}{name}`: writes the result into ``input`` (which it returns)."
    example = _inplace_example(prefix, name, doc or "")
    return text + ("\n\n" + example if example else "\n")


def _inplace_example(prefix, name, doc):
    """The first ``>>> <prefix>name(FIRST, REST)`` of ``doc`` whose ``FIRST`` is an ``ember.tensor(...)``, run
    in place as ``x = FIRST; <prefix>name_(x, REST) is x`` (None when there is none)."""
    call = f">>> {prefix}{name}(ember.tensor("
    for line in doc.splitlines():
        start = line.find(call)
        if start < 0:
            continue
        text = line[start + len(call) - len("ember.tensor("):]
        depth, cut = 0, None
        for end, ch in enumerate(text):
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth < 0:
                    break
            elif ch == "," and depth == 0 and cut is None:
                cut = end
        else:
            continue
        if text[end + 1:].strip():  # the call is part of a larger expression
            continue
        first, rest = (text[:cut], ", " + text[cut + 1:end].strip()) if cut is not None else (text[:end], "")
        return f"    >>> x = {first}\n    >>> {prefix}{name}_(x{rest}) is x\n    True\n"
    return None


def write_out(result: Tensor, out: Tensor | None) -> Tensor:
    """PyTorch's ``out=``: copy ``result`` into ``out`` (resized when it is empty) and return ``out``; with no
    ``out``, ``result`` itself.

    >>> out = ember.empty(0)
    >>> write_out(ember.tensor([1.0, 2.0]), out) is out, out
    (True, tensor([1., 2.]))
    """
    if out is None:
        return result
    check_inplace_allowed(out, "out=")
    if out._data.shape != result._data.shape:
        if out._data.size != 0 and out._data.shape != ():
            raise op_error(RuntimeError, "out=", f"out has shape {tuple(out._data.shape)} but the result has shape "
                           f"{tuple(result._data.shape)}")
        out._data = np.empty(result._data.shape, dtype=out._data.dtype)
    np.copyto(out._data, result._data, casting="unsafe")
    out._version.value += 1
    return out


def bind_tensor_methods():
    """Bind every registered method on ``Tensor`` (ember.ops calls this once every family is imported); from
    then on a new definition's forms are added to the ``Tensor`` class and the namespace modules at once."""
    for name, function in TENSOR_METHODS.items():
        setattr(Tensor, name, function)
    _SURFACE_BOUND[0] = True


def _scalar_as(npdt, value):
    try:
        return npdt.type(value)
    except (OverflowError, TypeError, ValueError):
        return np.asarray(value).astype(npdt)


def _as_arrays(op, args, dt):
    if dt is None:
        return [a._data if isinstance(a, Tensor) else a for a in args]
    npdt = dt.numpy_dtype
    arrays = []
    cast_only = op.promote_args
    for i, a in enumerate(args):
        if cast_only is not None and i not in cast_only:
            arrays.append(a._data if isinstance(a, Tensor) else a)
        elif isinstance(a, Tensor):
            d = a._data
            if d.dtype != npdt:
                d = d.astype(npdt)
            arrays.append(d)
        elif a is None:
            arrays.append(None)
        else:
            arrays.append(_scalar_as(npdt, a))
    return arrays


def _fast_operands(fast, args, scalars):
    """``(arrays, any_requires_grad)`` when the dtype rule is a no-op for ``args``, else None.

    Covers the common calls: one tensor, two tensors of one dtype, and a tensor with a Python number that
    does not change its dtype (a float with a floating tensor, an int with a non-bool tensor).
    """
    if len(args) == 2:
        a, b = args
        if isinstance(a, Tensor):
            d = a._dtype
            if d not in fast:
                return None
            if isinstance(b, Tensor):
                if b._dtype is d:
                    return (a._data, b._data), a._requires_grad or b._requires_grad
                return None
            kind = b.__class__
            if scalars and ((kind is float and d.category == 2) or (kind is int and d.category)):
                return (a._data, _scalar_as(d.numpy_dtype, b)), a._requires_grad
            return None
        if isinstance(b, Tensor):
            d = b._dtype
            kind = a.__class__
            if scalars and d in fast and ((kind is float and d.category == 2) or (kind is int and d.category)):
                return (_scalar_as(d.numpy_dtype, a), b._data), b._requires_grad
        return None
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Tensor) and a._dtype in fast:
            return (a._data,), a._requires_grad
        return None
    d = None
    arrays = []
    needs_grad = False
    for a in args:
        if not isinstance(a, Tensor) or (d is not None and a._dtype is not d):
            return None
        d = a._dtype
        arrays.append(a._data)
        needs_grad = needs_grad or a._requires_grad
    if d is None or d not in fast:
        return None
    return arrays, needs_grad


def dispatch(op: OpDef, args, attrs):
    """Eager execution of one op: dtype rule, forward, wrap, record the graph node."""
    fast = op.same_dtype_fast
    operands = _fast_operands(fast, args, op.fast_scalars) if fast is not None else None
    if operands is not None:
        arrays, record = operands
        record = record and op.differentiable and STATE.enabled
    else:
        dt = op.compute_dtype(args) if op.promote != "none" else None
        arrays = _as_arrays(op, args, dt)
        record = False
        if STATE.enabled and op.differentiable:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    record = True
                    break
    if op.takes_ctx:
        ctx = Node(op) if record else _Scratch()
        try:
            out = op.forward(ctx, *arrays, **attrs)
        except (ValueError, IndexError, TypeError) as e:
            raise _forward_error(op, args, e) from None
    else:
        ctx = Node(op) if record else None
        try:
            out = op.forward(*arrays, **attrs)
        except (ValueError, IndexError, TypeError) as e:
            raise _forward_error(op, args, e) from None
    if out.__class__ is not np.ndarray:
        if out.__class__ is tuple or out.__class__ is list:
            return _wrap_many(op, ctx, args, out, record, attrs)
        out = np.asarray(out)
    result = from_array(out)
    if op.view and args and isinstance(args[0], Tensor):
        link_view(result, args[0], op, args, attrs, None)
    if record and result._dtype.category == 2:
        _record(ctx, args, (result,))
    return result


def _wrap_many(op, ctx, args, outs, record, attrs):
    results = []
    for o in outs:
        if o is None:
            results.append(None)
            continue
        if o.__class__ is not np.ndarray:
            o = np.asarray(o)
        results.append(from_array(o))
    if op.view and args and isinstance(args[0], Tensor):
        for i, r in enumerate(results):
            if r is not None:
                link_view(r, args[0], op, args, attrs, i)
    if record:
        _record(ctx, args, results)
    return tuple(results)


def _record(node, args, results):
    """Attach ``node`` to the graph: edges to the inputs, saved tensors, outputs' grad_fn."""
    edges = []
    input_meta = []
    for a in args:
        if isinstance(a, Tensor):
            edges.append(edge_of(a))
            input_meta.append((a._data.shape, a._dtype))
        else:
            edges.append(None)
            input_meta.append(None)
    node.next_edges = tuple(edges)
    node.input_meta = tuple(input_meta)
    op = node.op
    if op.save_inputs:
        if op.keep_inputs is not None:  # the op keeps only the operands its backward will read
            args = tuple(a if kept else None for a, kept in zip(args, op.keep_inputs(node.next_edges)))
        node.saved_inputs = args
        node.saved_versions = tuple([a._version.value if isinstance(a, Tensor) else None for a in args])
    metas = []
    for i, r in enumerate(results):
        if r is None:
            metas.append(None)
            continue
        metas.append((r._data.shape, r._dtype))
        if r._dtype.category == 2:
            r.grad_fn = node
            r._requires_grad = True
            r._output_nr = i
    node.output_meta = tuple(metas)
    if op.save_output:
        node.saved_outputs = tuple(
            None if r is None else (r._data, r._version, r._version.value, r._base) for r in results)


def _forward_error(op, args, error):
    shapes = [tuple(a._data.shape) for a in args if isinstance(a, Tensor)]
    text = str(error)
    if "broadcast" in text and op.kind == "elementwise":
        return op_error(RuntimeError, op.name, broadcast_message(shapes))
    described = ", ".join(f"{tuple(a._data.shape)} {a._dtype.name}" if isinstance(a, Tensor) else repr(a)
                          for a in args)
    exc_type = type(error) if type(error) in (TypeError, IndexError) else RuntimeError
    return op_error(exc_type, op.name, f"{text} (inputs: {described})")


# ------------------------------------------------------------------------------------ in-place
def _check_cast(op_name, result_dtype, self_dtype):
    if result_dtype.category > self_dtype.category:
        raise op_error(RuntimeError, op_name, f"result type {_torch_type_name(result_dtype)} can't be cast to the "
                       f"desired output type {_torch_type_name(self_dtype)}")


def apply_inplace(op: OpDef, self: Tensor, *args, **attrs) -> Tensor:
    """Run ``op(self, *args)`` and write the result into ``self`` (``add_``, ``mul_`` ...).

    With no graph to record, ops that declare a ``ufunc`` or ``inplace_forward`` write straight into
    ``self``'s memory; otherwise the result is computed and copied in. Either way the version counter is
    bumped, so a backward that saved the old value raises instead of returning a wrong gradient.
    """
    if _HOOK is not None:
        return _HOOK.call_inplace(op, self, args, attrs, run_inplace)
    return run_inplace(op, self, args, attrs)


def run_inplace(op: OpDef, self: Tensor, args, attrs) -> Tensor:
    """:func:`apply_inplace`'s work, past the execution hook."""
    name = op.name + "_"
    check_inplace_allowed(self, name)
    operands = (self,) + args
    needs_graph = False
    if STATE.enabled and op.differentiable:
        for a in operands:
            if isinstance(a, Tensor) and a._requires_grad:
                needs_graph = True
                break
    if not needs_graph:
        dt = op.compute_dtype(operands)
        if dt is not None:
            _check_cast(name, dt, self._dtype)
            if op.ufunc is not None or op.inplace_forward is not None:
                arrays = _as_arrays(op, args, dt)
                out = self._data
                try:
                    if op.inplace_forward is not None:
                        op.inplace_forward(out, *arrays, **attrs)
                    else:
                        op.ufunc(out, *arrays, out=out, casting="unsafe")
                except (ValueError, IndexError, TypeError) as e:
                    raise _forward_error(op, operands, e) from None
                self._version.value += 1
                return self
    if needs_graph and (op.save_inputs or op.takes_ctx):
        # The op's backward may read self's old value, which the write below overwrites: give it a copy.
        snapshot = from_array(self._data.copy(), requires_grad=self._requires_grad, grad_fn=self.grad_fn)
        snapshot._output_nr = self._output_nr
        operands = (snapshot,) + tuple(snapshot if a is self else a for a in args)
    result = op(*operands, **attrs)
    write_result_into(self, result, name)
    return self


def write_result_into(self: Tensor, result: Tensor, op_name: str):
    """Copy ``result`` into ``self`` and make ``self`` carry ``result``'s place in the graph."""
    _check_cast(op_name, result._dtype, self._dtype)
    if result._data.shape != self._data.shape:
        try:
            np.broadcast_to(result._data, self._data.shape)
        except ValueError:
            raise op_error(RuntimeError, op_name, f"output with shape {list(self._data.shape)} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}") from None
    np.copyto(self._data, result._data, casting="unsafe")
    self._version.value += 1
    if result.grad_fn is not None:
        rebase_history(self, result)


def unused(*_):
    return None


_ = (VersionCounter, _float32)
