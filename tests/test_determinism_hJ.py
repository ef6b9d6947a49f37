"""The same question gets one answer across processes: commands whose code iterates dicts, sets and seeded draws
(ECMP flow hashes, serving arrivals, the MoE plan search, a scenario plan, the fleet-mix MILP) print the same
`--json`, byte for byte once wall-clock timings are dropped, under two `PYTHONHASHSEED` values (string hashes,
hence set iteration order, differ between them). A guard: the session-33 audit found no difference here (the
sweep's order dependences are in tests/sweep/test_sweep_order_hJ.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMINGS = ("wall_time_s", "configs_per_s", "points_per_s")
"""Wall-clock fields of a --json output (search, plan): the only ones allowed to differ between runs."""
COMMANDS = [
    ["collective", "all-to-all", "--system", "meta-genai-roce-24k", "--gpus", "128", "--bytes", "64MB",
     "--placement", "spread", "--sim", "flow"],
    ["serve", "mixtral-8x7b", "--system", "dgx-h100-superpod", "--gpus", "8", "--rate", "4", "--workload", "chat",
     "--requests", "200"],
    ["search", "qwen3-30b-a3b", "--system", "dgx-h100-superpod", "--gpus", "128", "--seq-len", "4096",
     "--global-batch", "512"],
    ["plan", "examples/plan-minimal.yaml"],
    ["fleet-mix", "examples/fleet-mix.yaml"],
]
SCRIPT = f"""
import contextlib, io, json, sys
from infraplan.cli.main import main
drop = set({TIMINGS!r})
def strip(o):
    if isinstance(o, dict):
        return {{k: strip(v) for k, v in o.items() if k not in drop}}
    return [strip(v) for v in o] if isinstance(o, list) else o
out = []
for command in {COMMANDS!r}:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main([*command, "--json"]) == 0, command
    out.append(strip(json.loads(buf.getvalue())))
sys.stdout.write(json.dumps(out))
"""


def test_commands_answer_the_same_under_two_hash_seeds() -> None:
    runs = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "src")}
        runs.append(subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True))
    outs = [run.communicate(timeout=120) for run in runs]
    for run, (_, err) in zip(runs, outs, strict=True):
        assert run.returncode == 0, err[-2000:]
    first, second = (json.loads(out) for out, _ in outs)
    assert len(first) == len(COMMANDS)
    for command, a, b in zip(COMMANDS, first, second, strict=True):
        assert json.dumps(a, sort_keys=False) == json.dumps(b, sort_keys=False), command[0]
