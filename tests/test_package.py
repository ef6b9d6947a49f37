"""Packaging: one version, the licence, dev tools from the registry, and no junk in the sdist or wheel."""

from __future__ import annotations

import importlib.metadata
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from tests import user_docs

import infraplan

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
JUNK = ("__pycache__", ".pyc", ".whl", ".venv/", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".hypothesis")


def test_version_has_one_source():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "src/infraplan/__init__.py"
    assert importlib.metadata.version("infraplan") == infraplan.__version__  # the installed metadata agrees


def test_licence_file_matches_pyproject():
    assert PYPROJECT["project"]["license"] == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a stub


def test_dev_tools_come_from_the_registry():
    dev = " ".join(PYPROJECT["project"]["optional-dependencies"]["dev"])
    for tool in ("ruff", "import-linter", "mypy", "types-PyYAML", "pytest"):
        assert tool in dev
    assert not list(ROOT.glob("*.whl")), "no wheels committed at the repository root"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """Build the sdist and the wheel as the release would (hatchling, in-process) and list their files."""
    builders = pytest.importorskip("hatchling.builders.sdist"), pytest.importorskip("hatchling.builders.wheel")
    out = tmp_path_factory.mktemp("dist")
    sdist = next(builders[0].SdistBuilder(str(ROOT)).build(directory=str(out), versions=["standard"]))
    wheel = next(builders[1].WheelBuilder(str(ROOT)).build(directory=str(out), versions=["standard"]))
    with tarfile.open(sdist) as tar:
        sdist_names = [name.split("/", 1)[1] for name in tar.getnames() if "/" in name]
    with zipfile.ZipFile(wheel) as whl:
        wheel_names = whl.namelist()
    return {"sdist": sdist_names, "wheel": wheel_names}


def test_sdist_ships_the_sources_and_no_junk(built):
    names = built["sdist"]
    for needed in ("LICENSE", "README.md", "pyproject.toml", "src/infraplan/__init__.py", "src/infraplan/py.typed",
                   "tests/user_docs.py"):
        assert needed in names
    pages = {n for n in names if n.startswith("docs/")}  # the README's detail pages: the tests read them (hM64)
    assert pages == {f"docs/{page}.md" for page in user_docs.PAGES}
    assert not [n for n in names if any(j in n for j in JUNK)]
    assert {n.split("/")[0] for n in names} <= {"src", "tests", "benchmarks", "examples", "validation", "docs",
                                                 "LICENSE", "README.md", "Makefile", "pyproject.toml", "PKG-INFO",
                                                 ".gitignore"}


def test_wheel_ships_the_package_with_its_data_and_licence(built):
    names = built["wheel"]
    assert "infraplan/__init__.py" in names and "infraplan/py.typed" in names
    assert any(n.startswith("infraplan/catalog/") and n.endswith(".yaml") for n in names)  # catalog data ships
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not [n for n in names if any(j in n for j in JUNK)]
    assert {n.split("/")[0] for n in names} <= {"infraplan", f"infraplan-{infraplan.__version__}.dist-info"}
