"""No module imports another infraplan module's private (underscore) name.

A private name another module imports is a public contract in disguise: renaming it in its own module breaks a
second one that nothing at the definition warns of. Such a name is made public (no underscore, a docstring saying
what it models), moved to where it belongs, or inlined. Checked on the source (`ast`), so every form counts:
`from infraplan.x import _y` (one line or an `import (` block, at module level or inside a function), the relative
form, and `module._y` on a module bound by an import (`from infraplan.network import fabric as _fabric`, then
`_fabric._y`). Allowed: dunders, a public name imported under a private alias (`import shown_path as _shown`), and a
package's private module (`cli.commands._output`) imported from inside its own package.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# (importing module, imported module, name) left as they are, each with its reason. Remove an entry when its
# import goes: `test_allow_list_has_no_stale_entry` fails on an entry nothing uses any more.
ALLOWED: set[tuple[str, str, str]] = set()  # (hR46: plan_rules' three from plan made public / its own; none left)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module an `ImportFrom` names, with a relative one resolved against `importer`."""
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def private_imports(source: str, importer: str, modules: set[str],
                    is_package: bool = False) -> list[tuple[str, str, str]]:
    """(importer, imported module, name) of every private name `source` takes from another infraplan module."""
    tree = ast.parse(source)
    found: list[tuple[str, str, str]] = []
    bound: dict[str, str] = {}  # local name -> the infraplan module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _absolute(importer, is_package, node)
            if module.split(".")[0] != "infraplan":
                continue
            for alias in node.names:
                target = f"{module}.{alias.name}"
                if target in modules:
                    bound[alias.asname or alias.name] = target
                    if _private(alias.name) and not importer.startswith(module + "."):
                        found.append((importer, module, alias.name))  # another package's private module
                elif _private(alias.name):
                    found.append((importer, module, alias.name))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "infraplan" and alias.asname:
                    bound[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                and _private(node.attr) and f"{bound[node.value.id]}.{node.attr}" not in modules):
            found.append((importer, bound[node.value.id], node.attr))
    return found


def _all_private_imports() -> list[tuple[str, str, str]]:
    files = sorted(SRC.rglob("*.py"))
    modules = {_module_name(f) for f in files}
    return [hit for f in files
            for hit in private_imports(f.read_text(), _module_name(f), modules, f.name == "__init__.py")]


def test_no_module_imports_another_modules_private_name() -> None:
    hits = sorted(set(_all_private_imports()) - ALLOWED)
    assert not hits, "private names imported across modules (make them public, move or inline them):\n" + "\n".join(
        f"  {importer} takes {module}.{name}" for importer, module, name in hits)


def test_allow_list_has_no_stale_entry() -> None:
    stale = ALLOWED - set(_all_private_imports())
    assert not stale, f"ALLOWED entries no module needs any more (remove them): {sorted(stale)}"


MODULES = {"infraplan.a", "infraplan.a.b", "infraplan.a.c", "infraplan.a._impl", "infraplan.a.b.d"}


def test_the_check_sees_every_form_of_a_private_import() -> None:
    source = (
        "from infraplan.a.c import (\n    public,\n    _one,\n)\n"  # an `import (` block
        "def f():\n    from infraplan.a.c import _two\n"  # inside a function
        "from .c import _three\n"  # relative, from infraplan.a.b
        "from infraplan.a import c as _c\nx = _c._four\n"  # a module's private attribute
        "import infraplan.a.c as cc\ny = cc._five\n"
    )
    found = private_imports(source, "infraplan.a.b", MODULES)
    assert sorted(found) == sorted(("infraplan.a.b", "infraplan.a.c", n) for n in ("_one", "_two", "_three", "_four",
                                                                                    "_five"))


def test_the_check_lets_public_names_dunders_and_own_private_modules_through() -> None:
    source = ("from infraplan.a.c import shown as _shown, __version__\n"  # a public name under a private alias
              "from infraplan.a import _impl\n"  # its own package's private module
              "from infraplan.a import c\nz = c.__doc__\n"
              "from os import _exit\n")  # not infraplan
    assert private_imports(source, "infraplan.a.b", MODULES) == []
    assert private_imports("from infraplan.a import _impl\n", "infraplan.x", MODULES | {"infraplan.x"}) == [
        ("infraplan.x", "infraplan.a", "_impl")]  # another package's private module
