"""How Ember's packages assemble their namespaces: one file per family, submodules loaded on first use.

``import_families`` imports ``package.family`` for each family that exists; ``lazy_submodules`` builds a
module ``__getattr__`` that imports a submodule on first access and raises
:class:`ember.errors.MissingFeatureError` (naming the torch API) for anything Ember lacks.

>>> from ember._namespaces import import_families
>>> [m.__name__ for m in import_families("ember.ops", ("arithmetic", "no_such_family"))]
['ember.ops.arithmetic']
"""

from __future__ import annotations

import importlib

from ember.errors import missing


def _import_if_present(module_name):
    """The module, or None when that very module does not exist (an error inside it still propagates)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        return None


def import_families(package: str, families) -> list:
    """Import ``package.<family>`` for each family, skipping families that have no file."""
    modules = (_import_if_present(f"{package}.{family}") for family in families)
    return [module for module in modules if module is not None]


def lazy_submodules(package: str, namespace: dict, names=None):
    """A module-level ``__getattr__`` for ``package``: ``names`` (every non-dunder name when None) are
    submodules imported on first access and cached in ``namespace``; any other name is missing."""

    def __getattr__(name):
        if names is None and name.startswith("__"):
            raise AttributeError(name)
        if names is None or name in names:
            module = _import_if_present(f"{package}.{name}")
            if module is not None:
                namespace[name] = module
                return module
        raise missing(package, name)

    return __getattr__
