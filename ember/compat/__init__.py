"""Run unmodified PyTorch code on Ember: ``import torch`` (and ``torch.nn``, ``torch.optim``, ...) resolve to Ember.

``install()`` puts an import hook in front of the real torch: ``torch`` becomes a facade over ``ember``
and every ``torch.X.Y`` module resolves to ``ember.X.Y``. What scripts commonly probe answers sensibly
(``torch.cuda.is_available()`` is False, ``torch.device("cpu")`` works), and an API Ember lacks raises
:class:`ember.errors.MissingFeatureError`, a ``NotImplementedError`` naming it (also an
``AttributeError``, so ``hasattr`` stays False).

From the shell: ``python -m ember.compat train.py args...`` runs ``train.py`` with the hook installed.

>>> import ember.compat
>>> ember.compat.install()
>>> import torch
>>> torch.nn.Module is ember.nn.Module, torch.cuda.is_available(), torch.__version__ == ember.__version__
(True, False, True)
>>> ember.compat.uninstall()
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

import ember
from ember.compat import shims
from ember.errors import missing

__all__ = ["install", "uninstall", "installed", "TorchFacade"]

_ALIAS = "torch"


class TorchFacade(types.ModuleType):
    """The module ``import torch`` returns: ember's names first, then the shims, else a clear error."""

    def __init__(self):
        super().__init__(_ALIAS, ember.__doc__)
        self.__version__ = ember.__version__
        self.__path__ = []  # a package, so `import torch.nn` goes through the finder
        self.__file__ = ember.__file__

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        shim = shims.TOP_LEVEL.get(name)
        if shim is not None:
            value = shim
        else:
            try:
                value = getattr(ember, name)
            except AttributeError:
                raise missing("ember", name) from None
        setattr(self, name, value)
        return value

    def __dir__(self):
        return sorted(set(dir(ember)) | set(shims.TOP_LEVEL))


class _MissingModule(types.ModuleType):
    """A ``torch.X`` module Ember lacks: importing works (scripts often import more than they use); using fails."""

    def __init__(self, name):
        super().__init__(name)
        self.__path__ = []

    def __getattr__(self, attribute):
        if attribute.startswith("__") and attribute.endswith("__"):
            raise AttributeError(attribute)
        raise missing(self.__name__, attribute)


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target
        self.original_spec = None

    def create_module(self, spec):
        if spec.name == _ALIAS:
            return TorchFacade()
        if spec.name in shims.MODULES:
            return shims.MODULES[spec.name]
        try:
            module = importlib.import_module(self.target)
            self.original_spec = module.__spec__
            return module
        except ModuleNotFoundError as error:
            if error.name is not None and not self.target.startswith(error.name):
                raise
            return _MissingModule(spec.name)

    def exec_module(self, module):
        # create_module returned the existing ember module itself (torch.nn *is* ember.nn): nothing to run, but
        # the import system stamped torch's spec on it; ember's own spec goes back so ember.nn stays ember.nn.
        if self.original_spec is not None:
            module.__spec__ = self.original_spec


class _TorchFinder(importlib.abc.MetaPathFinder):
    """Resolves ``torch`` and ``torch.*`` before the real torch's finder sees them."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _ALIAS and not fullname.startswith(_ALIAS + "."):
            return None
        target_name = "ember" + fullname[len(_ALIAS):]
        if fullname != _ALIAS and fullname not in shims.MODULES and not _exists(target_name):
            parent, _, leaf = fullname.rpartition(".")
            # `from torch.x import Name` asks for a submodule torch.x.Name after getattr failed: that is a missing
            # name, not a module, and so is anything under a module Ember lacks.
            if isinstance(sys.modules.get(parent), _MissingModule) or not leaf.islower():
                raise missing(parent, leaf)
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(target_name), is_package=True)


def _exists(module_name):
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False


_FINDER = _TorchFinder()
_SAVED = {}


def installed() -> bool:
    """Whether ``import torch`` currently resolves to Ember.

    >>> ember.compat.installed()
    False
    """
    return _FINDER in sys.meta_path


def install() -> None:
    """Make ``import torch`` (and every ``torch.*`` submodule) resolve to Ember in this process.

    A torch that was already imported is set aside (and put back by :func:`uninstall`).

    >>> ember.compat.install(); import torch; torch.zeros(2).sum().item(); ember.compat.uninstall()
    0.0
    """
    if installed():
        return
    for name in [n for n in sys.modules if n == _ALIAS or n.startswith(_ALIAS + ".")]:
        _SAVED[name] = sys.modules.pop(name)
    sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    """Undo :func:`install`: ``import torch`` finds the real torch again (if it is installed).

    >>> ember.compat.install(); ember.compat.uninstall(); ember.compat.installed()
    False
    """
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n in sys.modules if n == _ALIAS or n.startswith(_ALIAS + ".")]:
        del sys.modules[name]
    sys.modules.update(_SAVED)
    _SAVED.clear()
