"""numba's disk cache and `fcfs_state` (hV, session 72): numba keys the cached `fcfs_run` on fcfs_core.py's stamp
alone, so an edit of a helper in fcfs_state.py (`end_due`, a slot number) was answered, warm, by the build of the
helper before it. `fcfs_core.STATE_SHA256` names the state source the cache was built against; another source
compiles afresh. On a copy of the package: the loop run, `end_due` edited to write each finish 1 s late, run again
with the same cache: every finish moves by 1 s (at 46d45aa1 it did not move: the old build came from the cache)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = """
import json, numpy as np
from tests.serving.test_serving_engine_fcfs_loop import COST
from infraplan.serving import fcfs_core, fcfs_loop, fcfs_state
from infraplan.serving.serving_engine import simulate_engine
fcfs_loop.COMPILE_AFTER = -1  # the numba build from the first run (hQ72: short runs run as written)
rng = np.random.default_rng(7)
n = 60
arrival = np.cumsum(rng.exponential(1 / 20.0, n))
out = simulate_engine(COST, arrival, rng.integers(1, 800, n), np.zeros(n, dtype=np.int64), rng.integers(1, 80, n),
                      32, 1024, 4000, 16)
assert fcfs_state.numba_loaded()  # (numba: the compiled loop ran)
print(json.dumps([fcfs_core.CACHED, out.finish_s.tolist()]))
"""


def _run(src: Path, cache: Path) -> tuple[bool, np.ndarray]:
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}", "NUMBA_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", RUN], env=env, capture_output=True, text=True, check=True,
                          cwd=src.parent)
    cached, finish = json.loads(done.stdout.splitlines()[-1])
    return cached, np.array(finish)


def test_an_edited_state_module_is_not_answered_from_the_cache(tmp_path: Path) -> None:
    if importlib.util.find_spec("numba") is None:  # (numba absent: nothing is cached)
        pytest.skip("numba not installed")
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "infraplan", src / "infraplan", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "numba"
    cached, before = _run(src, cache)
    assert cached and list(cache.rglob("fcfs_core.fcfs_run*.nbi"))  # built against this source, and cached
    state = src / "infraplan" / "serving" / "fcfs_state.py"
    text = state.read_text()
    assert text.count("finish[j] = clock\n") == 1
    state.write_text(text.replace("finish[j] = clock\n", "finish[j] = clock + 1.0\n"))
    cached, after = _run(src, cache)
    assert not cached
    np.testing.assert_allclose(after - before, 1.0, rtol=0, atol=1e-9)
