"""Session 76's out-of-sample folder (validation/notes/out_of_sample_s76/, hO) runs at HEAD.

Three of the eleven earlier out-of-sample scripts had stopped running on renamed modules (serving_roofline merged into
serving_row_rules by hR62; BUS_FACTORS moved to collective_algorithms by hD61) and one row on a new refusal
(sglang's EP-divides-the-physical-experts check for Kimi K2 at EP 96): out_of_sample_s76/rerun.py runs them. These
tests import every script of the folder (a rename fails them) and run new_rows.py (~6 s): the Llama 3 paper's 128K
row (Table 4 row 3, RECALLED: 380 TFLOPs/GPU) within 5 % and inside its own answer's error band."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "validation" / "notes" / "out_of_sample_s76"
SCRIPTS = ("serving_oos", "serving_oos2", "oos_collectives", "band_coverage")  # rerun.py runs them


def _python(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_every_rerun_script_and_this_folders_scripts_import() -> None:
    code = (f"import sys; sys.path.insert(0, {str(FOLDER)!r}); import importlib, rerun; "
            f"[rerun.load(m) for m in {SCRIPTS!r}]; import new_rows, band_coverage_more; "
            "kimi = [c for c in sys.modules['serving_oos'].WIDE_EP if c['id'].startswith('lmsys-kimi')]; "
            "print(sorted(c.get('stack', '') for c in kimi))")
    out = _python("-c", code)
    assert "sglang-deepep-tbo-r96.yaml" in out  # the EP 96 twin on a slot count sglang accepts


def test_new_rows_run_and_the_128k_row_is_within_its_band() -> None:
    out = _python(str(FOLDER / "new_rows.py"))
    assert "ERROR" not in out
    ids = {line.split()[0] for line in out.splitlines() if re.match(r"^[a-z0-9.-]+ +pub ", line)}
    assert len(ids) == 6 and "llama3-405b-128k-cp16" in ids
    line = next(ln for ln in out.splitlines() if ln.startswith("llama3-405b-128k-cp16"))
    err = re.search(r"model +[\d.]+ \(([+-][\d.]+)%\)", line)
    assert err is not None and abs(float(err.group(1))) < 5.0
    assert line.endswith(" in")
