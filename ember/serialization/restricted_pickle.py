"""The allow-list unpickler behind ``ember.load(..., weights_only=True)`` and the user's safe globals.

A pickle names every class or function it calls as a *global* (``module.name``). With ``weights_only=True``
only the globals of a checkpoint's plain data (tensors, ``OrderedDict``, ``set`` ...) resolve; anything else
is refused before it is imported, with the name of the global and how to allow it if it is trusted:

>>> import io, pickle
>>> from ember.serialization import restricted_pickle
>>> data = pickle.dumps(print)
>>> try:
...     restricted_pickle.RestrictedUnpickler(io.BytesIO(data), {}, source="<bytes>").load()
... except pickle.UnpicklingError as error:
...     print(str(error).splitlines()[0])
Weights only load failed: ember.load refuses to load global 'print' from <bytes>.
"""

from __future__ import annotations

import _compat_pickle
import codecs
import collections
import contextlib
import pickle
import threading

__all__ = ["UnpicklingError", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
           "RestrictedUnpickler"]

# Globals from these modules run commands or touch the interpreter; they stay refused even if allow-listed.
BLOCKED_MODULES = ("sys", "os", "posix", "nt", "subprocess", "builtins.eval", "builtins.exec", "builtins.compile",
                   "builtins.getattr", "builtins.__import__", "builtins.open")


class UnpicklingError(pickle.UnpicklingError):
    """A checkpoint's pickle asked for something ``ember.load`` will not do (a refused global, a bad record).

    It is a ``pickle.UnpicklingError``, as PyTorch's weights-only errors are.

    >>> issubclass(ember.serialization.UnpicklingError, __import__("pickle").UnpicklingError)
    True
    """


_lock = threading.Lock()
_user_safe_globals: list = []


def _check_safe_global(entry):
    if isinstance(entry, tuple):
        if len(entry) != 2:
            raise ValueError(f"Expected tuple of length 2 (global, str of callable full path), but got tuple of length: "
                             f"{len(entry)}")
        if type(entry[1]) is not str:
            raise TypeError(f"Expected second item in tuple to be str of callable full path, but got: {type(entry[1])}")
        return entry
    if not (hasattr(entry, "__module__") and hasattr(entry, "__qualname__")):
        raise TypeError(f"add_safe_globals expects classes or functions (or (object, 'module.name') tuples), got "
                        f"{entry!r}")
    return entry


def add_safe_globals(safe_globals: list) -> None:
    """Allow these classes/functions in ``ember.load(..., weights_only=True)``, as ``torch.serialization.add_safe_globals``.

    Entries are objects (found in a pickle as ``obj.__module__ + "." + obj.__qualname__``) or
    ``(obj, "module.name")`` pairs for objects pickled under another name.

    >>> from ember import serialization
    >>> serialization.add_safe_globals([__import__("fractions").Fraction])
    >>> [g.__name__ for g in serialization.get_safe_globals()]
    ['Fraction']
    >>> serialization.clear_safe_globals()
    """
    entries = [_check_safe_global(entry) for entry in safe_globals]
    with _lock:
        for entry in entries:
            if entry not in _user_safe_globals:
                _user_safe_globals.append(entry)


def get_safe_globals() -> list:
    """The globals added with :func:`add_safe_globals` (or inside :func:`safe_globals`).

    >>> ember.serialization.get_safe_globals()
    []
    """
    with _lock:
        return list(_user_safe_globals)


def clear_safe_globals() -> None:
    """Forget every global added with :func:`add_safe_globals`.

    >>> ember.serialization.add_safe_globals([complex]); ember.serialization.clear_safe_globals()
    >>> ember.serialization.get_safe_globals()
    []
    """
    with _lock:
        _user_safe_globals.clear()


def _remove_safe_globals(entries) -> None:
    with _lock:
        for entry in entries:
            if entry in _user_safe_globals:
                _user_safe_globals.remove(entry)


@contextlib.contextmanager
def safe_globals(safe_globals: list):
    """Allow these globals for the duration of a ``with`` block, as ``torch.serialization.safe_globals``.

    >>> import fractions
    >>> with ember.serialization.safe_globals([fractions.Fraction]):
    ...     len(ember.serialization.get_safe_globals())
    1
    >>> ember.serialization.get_safe_globals()
    []
    """
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _remove_safe_globals(safe_globals)


def user_allowed_globals() -> dict:
    """``{"module.name": object}`` for the user's safe globals (NumPy's ``numpy._core`` also as ``numpy.core``).

    >>> with safe_globals([np.ndarray]):
    ...     user_allowed_globals()
    {'numpy.ndarray': <class 'numpy.ndarray'>}
    """
    allowed = {}
    for entry in get_safe_globals():
        if isinstance(entry, tuple):
            obj, name = entry
        else:
            obj, name = entry, f"{entry.__module__}.{entry.__qualname__}"
        allowed[name] = obj
        if name.startswith("numpy._core."):  # pickles written by NumPy 1.x spell it numpy.core
            allowed.setdefault("numpy.core." + name[len("numpy._core."):], obj)
    return allowed


def _latin1_encode(text, encoding="latin1"):
    # Protocol-2 pickles store bytes as codecs.encode(str, "latin1"); no other codec is needed or allowed.
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise UnpicklingError(f"_codecs.encode is only allowed for bytes stored as latin1 text, got encoding {encoding!r}")
    return codecs.encode(text, "latin1")


# Plain-data globals every weights-only load accepts (the builtins that PyTorch's weights_only allows, plus
# harmless immutable ones).
BASE_GLOBALS = {
    "collections.OrderedDict": collections.OrderedDict,
    "collections.Counter": collections.Counter,
    "_codecs.encode": _latin1_encode,
    "builtins.set": set,
    "builtins.frozenset": frozenset,
    "builtins.complex": complex,
    "builtins.bytearray": bytearray,
    "builtins.slice": slice,
    "builtins.range": range,
}


def global_name(module: str, name: str) -> str:
    """``module.name`` of a pickle global, with Python 2 names (``__builtin__``) mapped as pickle does.

    >>> global_name("__builtin__", "set")
    'builtins.set'
    """
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    elif module in _compat_pickle.IMPORT_MAPPING:
        module = _compat_pickle.IMPORT_MAPPING[module]
    return f"{module}.{name}"


def _display_name(full_name: str) -> str:
    return full_name[len("builtins."):] if full_name.startswith("builtins.") else full_name


def refusal(full_name: str, source: str, blocked: bool = False) -> UnpicklingError:
    """The error for a global the weights-only unpickler will not load.

    >>> str(refusal("mymodule.MyClass", "ckpt.pt")).splitlines()[0]
    "Weights only load failed: ember.load refuses to load global 'mymodule.MyClass' from ckpt.pt."
    """
    shown = _display_name(full_name)
    if blocked:
        return UnpicklingError(
            f"Weights only load failed: ember.load refuses to load global '{shown}' from {source}.\n"
            f"Its module is blocked: it can run commands, so it can't be allowed even with add_safe_globals. "
            f"The file may be malicious; do not load it with weights_only=False unless you wrote it yourself.")
    return UnpicklingError(
        f"Weights only load failed: ember.load refuses to load global '{shown}' from {source}.\n"
        f"Unsupported global: GLOBAL {shown} was not an allowed global by default. With weights_only=True "
        f"(the default) a checkpoint may hold only tensors, numbers, strings and containers of them. If you trust "
        f"this class/function, use `ember.serialization.add_safe_globals([{shown}])` or the "
        f"`ember.serialization.safe_globals([{shown}])` context manager to allowlist it, or load with "
        f"weights_only=False if you trust the whole file (that runs any code the file names).")


def is_blocked(full_name: str) -> bool:
    """Whether the global comes from a module that may never be allowed (``os``, ``sys``, ``subprocess`` ...).

    >>> is_blocked("posix.system"), is_blocked("collections.OrderedDict")
    (True, False)
    """
    module = full_name.rsplit(".", 1)[0]
    return any(full_name == b or full_name.startswith(b + ".") or module == b for b in BLOCKED_MODULES)


class RestrictedUnpickler(pickle.Unpickler):
    """A ``pickle.Unpickler`` that resolves only the globals in ``allowed`` (``{"module.name": object}``).

    The user's safe globals are allowed too. With ``weights_only=False`` every other global is imported as
    plain ``pickle`` does, except the names listed in ``refused_prefixes`` (which ``refuse`` explains).
    ``persistent_load`` is called with the pickle's persistent ids (tensor storages).

    >>> import io, pickle
    >>> data = pickle.dumps({"a": {1, 2}})
    >>> RestrictedUnpickler(io.BytesIO(data), {}, source="<bytes>").load()
    {'a': {1, 2}}
    """

    def __init__(self, file, allowed: dict, *, source: str, weights_only: bool = True, persistent_load=None,
                 refused_prefixes: tuple = (), refuse=None, encoding: str = "ASCII"):
        super().__init__(file, encoding=encoding)
        self._allowed = allowed
        self._user_allowed = user_allowed_globals()
        self._source = source
        self._weights_only = weights_only
        self._persistent_load = persistent_load
        self._refused_prefixes = refused_prefixes
        self._refuse = refuse

    def find_class(self, module, name):
        full_name = global_name(module, name)
        if full_name in self._allowed:
            return self._allowed[full_name]
        if self._weights_only and is_blocked(full_name):
            raise refusal(full_name, self._source, blocked=True)
        if full_name in self._user_allowed:
            return self._user_allowed[full_name]
        if full_name in BASE_GLOBALS:
            return BASE_GLOBALS[full_name]
        if any(full_name.startswith(prefix) for prefix in self._refused_prefixes):
            raise self._refuse(full_name)
        if self._weights_only:
            raise refusal(full_name, self._source)
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if self._persistent_load is None:
            raise UnpicklingError(f"{self._source}: unexpected persistent id {pid!r} in the pickle")
        return self._persistent_load(pid)
