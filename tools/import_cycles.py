"""Print the import cycles among the modules of some packages: ``python tools/import_cycles.py [ember bench]``.

Every ``import`` counts, those inside functions too: an import deferred to call time still ties the two
modules together. A cycle is a strongly connected component of the import graph (a set of modules each of
which imports, directly or through the others, every other one); one line per component of two or more.

``tests/test_import_cycles.py`` fails on any cycle not on its allow-list.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["import_graph", "import_cycles"]


def _module_files(root: Path, packages) -> dict:
    """Dotted module name -> source file, for every ``.py`` file under each package (``pkg/__init__.py`` is
    ``pkg``)."""
    files = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    return files


def _imported_names(module: str, is_package: bool, node) -> list:
    """The dotted names an ``import`` / ``from ... import`` statement in ``module`` may load."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: drop one trailing part per dot beyond the first (a package is its own parent)
        parts = module.split(".")
        kept = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:kept] + ([base] if base else []))
    # `from a import b` loads a, and a.b too when b is a submodule rather than a name in a.
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def import_graph(root: Path, packages) -> dict:
    """``{module: set of modules it imports}`` among the modules of ``packages`` under ``root``.

    An imported name is resolved to the longest module name it starts with (``ember.ops.registry.REGISTRY``
    -> ``ember.ops.registry``). Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` too, but only
    ``a.b.c`` counts: an edge to every enclosing package would put each package in a cycle with the
    submodules its ``__init__`` imports. A module's imports of its own packages are left out for the same
    reason.

    >>> graph = import_graph(ROOT, ["ember"])
    >>> "ember.tensor" in graph["ember.ops.registry"], "ember.ops" in graph["ember.ops.registry"]
    (True, False)
    """
    files = _module_files(Path(root), packages)
    graph = {module: set() for module in files}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported_names(module, is_package, node):
                while name and name not in files:
                    name = name.rpartition(".")[0]
                if name and name != module and not module.startswith(name + "."):
                    graph[module].add(name)
    return graph


def import_cycles(graph: dict) -> list:
    """The strongly connected components of ``graph`` with two or more modules, each as a sorted list,
    smallest first (Tarjan's algorithm, without recursion).

    >>> import_cycles({"a": {"b"}, "b": {"a", "c"}, "c": set(), "d": {"d"}})
    [['a', 'b']]
    """
    index, lowlink, on_stack, stack, components = {}, {}, set(), [], []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = lowlink[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = lowlink[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    lowlink[parent] = min(lowlink[parent], lowlink[node])
                if lowlink[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return sorted(components, key=lambda component: (len(component), component))


def main(argv=None) -> int:
    packages = (sys.argv[1:] if argv is None else argv) or ["ember", "bench"]
    for component in import_cycles(import_graph(ROOT, packages)):
        print(len(component), component)
    return 0


if __name__ == "__main__":
    sys.exit(main())
