"""Whether a sweep's 'package.module:function' path names a function whose source declares a typed result, read
from the module's source without importing it or its packages (importing runs the module's top-level code, which a
refused path must not do). `sweep.functions.resolve_callable` asks this before it imports a path, and checks the
annotation again once imported."""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
from pathlib import Path

_MAX_HOPS = 8
"""Re-exports (`from .impl import run`) followed when a path's function is looked for in the source."""


def _module_source(module_name: str) -> tuple[str, str, bool] | str:
    """(file, text, is_package) of a module's Python source, found without importing it or its packages; or
    why there is none."""
    parts = module_name.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])  # a top-level name: found, not imported
        for depth in range(1, len(parts)):
            if spec is None or spec.submodule_search_locations is None:
                break
            parent = sys.modules.get(".".join(parts[:depth]))
            paths = list(getattr(parent, "__path__", None) or spec.submodule_search_locations)
            spec = importlib.machinery.PathFinder.find_spec(".".join(parts[:depth + 1]), paths)
    except (ImportError, ValueError, AttributeError):
        spec = None
    if spec is None or spec.name != module_name:
        return f"no module {module_name!r} found"
    if not isinstance(spec.origin, str) or not spec.origin.endswith(".py"):
        return f"module {module_name!r} has no Python source to read it from"
    try:
        return spec.origin, Path(spec.origin).read_text(encoding="utf-8"), spec.submodule_search_locations is not None
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read {spec.origin} ({type(exc).__name__})"


def source_refusal(name: str, module_name: str, attribute: str, hops: int = 0) -> str | None:
    """Why the source of `module:attribute` is not a function declaring its result (None: it is one), read
    without importing anything: importing a module runs its top-level code, which a refused path must not do
    (a module that deletes files on import was imported, then refused for its missing annotation)."""
    found = _module_source(module_name)
    if isinstance(found, str):
        return f"sweep function {name!r} does not declare a typed result: {found}"
    origin, text, package = found
    try:
        tree = ast.parse(text, filename=origin)
    except (SyntaxError, ValueError) as exc:
        return f"sweep function {name!r}: cannot read {origin} ({type(exc).__name__})"
    binding: ast.stmt | None = None
    imported: tuple[str, str] | None = None
    stars: list[str] = []
    for node in tree.body:  # the last top-level binding of the name wins, as at import
        targets: list[str] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            targets = [node.name]
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            nodes = node.targets if isinstance(node, ast.Assign) else [node.target]
            targets = [n.id for t in nodes for n in ast.walk(t) if isinstance(n, ast.Name)]
        elif isinstance(node, ast.Import):
            targets = [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module_name.split(".") if package else module_name.split(".")[:-1]
                parts = parts[:len(parts) - node.level + 1] if node.level > 1 else parts
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                if alias.name == "*":
                    stars.append(base)
                elif (alias.asname or alias.name) == attribute:
                    binding, imported = node, (base, alias.name)
        if attribute in targets:
            binding, imported = node, None
    if binding is None:
        for star in stars if hops < _MAX_HOPS else []:
            if source_refusal(name, star, attribute, hops + 1) is None:
                return None
        return f"sweep function {name!r}: module {module_name!r} defines no function {attribute!r}"
    if imported is not None:
        if hops >= _MAX_HOPS:
            return f"sweep function {name!r}: {attribute!r} is re-exported more than {_MAX_HOPS} times"
        return source_refusal(name, imported[0], imported[1], hops + 1)
    if not isinstance(binding, ast.FunctionDef):
        kind = "an async function" if isinstance(binding, ast.AsyncFunctionDef) else \
            "a class, no readable signature of a function" if isinstance(binding, ast.ClassDef) else \
            "not a function defined with `def`"
        return (f"sweep function {name!r} is {kind} ({origin}:{binding.lineno}): a sweep runs a function "
                "annotated `-> R` where R subclasses infraplan.results.Result")
    if binding.returns is None:
        return (f"sweep function {name!r} does not declare a typed result ({origin}:{binding.lineno}): a sweep "
                "runs a function annotated `-> R` where R subclasses infraplan.results.Result")
    return None
