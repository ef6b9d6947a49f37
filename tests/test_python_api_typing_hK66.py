"""A user's typed script (`typing_hK66/user_script.py`) is `mypy --strict`-clean against the public API (hK66).

Slow (~10-30 s: mypy reads the package's sources): `pytest -m slow`. The fast test checks what a checker needs: the
package ships `py.typed` and every public function's parameters and return are annotated.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import infraplan

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "typing_hK66" / "user_script.py"


def test_public_signatures_are_annotated() -> None:
    assert (ROOT / "src" / "infraplan" / "py.typed").is_file()
    for name in sorted(set(infraplan.__all__) - {"__version__", "Cluster", *infraplan.RESULT_TYPES}):
        signature = inspect.signature(getattr(infraplan, name))
        assert signature.return_annotation is not inspect.Signature.empty, name
        bare = [p.name for p in signature.parameters.values() if p.annotation is inspect.Parameter.empty]
        assert bare == [], name
    resolve = inspect.signature(infraplan.Cluster.resolve)
    assert resolve.return_annotation == "Cluster"


@pytest.mark.slow
def test_a_users_script_is_mypy_strict_clean(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), str(SCRIPT)],
                          capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
