"""Do the error bands cover the out-of-sample answers? (hC, session 55; notes: error_bands_tried.md "hC55").

For every out-of-sample row of the training scripts (out_of_sample_s52/oos.py, out_of_sample_s55/mlperf_training.py)
the band is the `error_band` of the very result the row is priced from (`estimate_training` / `search_plans`, the
calls `train --json` / `search --json` make: same system, stack, dtype and plan), captured by wrapping those calls;
a row is covered when its error (predicted / published - 1, the band's residual convention) lies in [low, high].
`collective`: the `error_band` of `estimate_collective` (what `collective --json` prints) against NVIDIA
AIConfigurator 0.12.0's all-reduce tables no model input reads (aic_oos_nccl.csv) and the published 8 GiB figures of
oos_collectives.py. Serving: out_of_sample_s53/serving_oos.py computes its own `covered` column (run it apart).
Run from the repository root (~30 s):
    PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s55/band_coverage.py
"""

from __future__ import annotations

import csv
import os
import sys
from collections import defaultdict
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "out_of_sample_s52")]

import mlperf_training as mt  # noqa: E402
import oos  # noqa: E402
import oos_collectives as oc  # noqa: E402

import infraplan.training as training  # noqa: E402
import infraplan.validation.runner as runner  # noqa: E402
from infraplan.cluster.cluster import Cluster  # noqa: E402
from infraplan.network.collective_schedules import BUS_FACTORS, estimate_collective  # noqa: E402

CAPTURED: dict[str, Any] = {}


def _capture(estimate, search):  # type: ignore[no-untyped-def]
    def est(*a, **k):  # type: ignore[no-untyped-def]
        r = estimate(*a, **k)
        CAPTURED["band"] = r.error_band
        return r

    def find(*a, **k):  # type: ignore[no-untyped-def]
        f = search(*a, **k)
        CAPTURED["band"] = f.best.error_band if f.best is not None else None
        return f

    return est, find


runner.estimate_training, runner.search_plans = _capture(runner.estimate_training, runner.search_plans)
mt.estimate_training, mt.search_plans = _capture(mt.estimate_training, mt.search_plans)
training.estimate_training = _capture(training.estimate_training, lambda *a, **k: None)[0]  # oos.paper_rows


def stack_class(stack: str) -> str:
    return ("torchtitan" if "torchtitan" in stack else "deepspeed" if "deepspeed" in stack else
            "megatron, default nemo-26.04" if stack == "nemo-26.04" else "megatron")


def inside(err: float, band: Any) -> bool:
    return band is not None and band.low <= err <= band.high


def training_rows() -> list[dict]:
    rows = []
    for case in oos.CASES + oos.SEARCH:
        case = dict(case, plan_source=case.get("plan_source", "assumed"), source="recalled")
        if case["model"] == "__neox20b__":
            case["model"] = oos.neox_config()
        CAPTURED.clear()
        r = runner.run_case(case)
        rows.append(dict(script="oos.py", id=r.id, cls=stack_class(str(case["stack"])), err=r.error,
                         band=CAPTURED["band"], steady=r.id in oos.STEADY_SETS[list(oos.STEADY_SETS)[1]]))
    for case in oos.PAPER:
        CAPTURED.clear()
        line = oos.run_paper(case)
        rows.append(dict(script="oos.py", id=line["id"], cls="megatron", err=line["error"], band=CAPTURED["band"],
                         steady=line["id"] in oos.STEADY_SETS[list(oos.STEADY_SETS)[1]]))
    for row in mt.ROWS:
        CAPTURED.clear()
        r = mt.run_row(row)
        for what in ("err_steps", "err_eval"):
            rows.append(dict(script=f"mlperf ({what[4:]})", id=row["id"], cls=stack_class(row["stack"]),
                             err=r[what], band=CAPTURED["band"], steady=what == "err_steps"))
    return rows


def collective_rows() -> list[dict]:
    rows = []
    with open(os.path.join(HERE, "aic_oos_nccl.csv")) as f:
        table = list(csv.DictReader(line for line in f if not line.startswith("#")))
    for r in table:
        if r["op"] != "all-reduce":
            continue
        res = estimate_collective("all-reduce", Cluster.resolve(oc.AIC_SYSTEMS[r["aic_system"]]), int(r["gpus"]),
                                  float(r["size_bytes"]))
        size = float(r["size_bytes"])
        rows.append(dict(script="collective", id=f"{r['aic_system']} {r['gpus']} GPUs {int(size)} B",
                         cls=f"{r['aic_system']} {'< 64 KiB' if size < 2**16 else '>= 64 KiB'}",
                         err=float(r["measured_us"]) * 1e-6 / res.time_s - 1.0, band=res.error_band, steady=True))
    for rid, _src, system, n, placement, algorithm, size, busbw, _nominal, _where in oc.PUBLISHED:
        res = estimate_collective("all-reduce", Cluster.resolve(system), n, size, placement=placement,
                                  algorithm=algorithm)
        measured = BUS_FACTORS["all-reduce"](n) * size / (busbw * 1e9)
        rows.append(dict(script="collective", id=rid, cls="published 8 GiB", err=measured / res.time_s - 1.0,
                         band=res.error_band, steady=True))
    return rows


def main() -> None:
    rows = training_rows() + collective_rows()
    for r in rows:
        if r["script"] != "collective":
            b = r["band"]
            print(f"{r['script']:18s} {r['id']:34s} {r['cls']:28s} {r['err']:+7.1%} band {b.low:+.1%}..{b.high:+.1%}"
                  f" {'in' if inside(r['err'], b) else 'OUT'}")
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["script"], r["cls"])].append(r)
        groups[(r["script"], "all")].append(r)
        if r["steady"] and r["script"] == "oos.py":
            groups[(r["script"], "9 steady-state rows (hN55)")].append(r)
    print("\ncoverage (inside / banded; rows without a band apart)")
    for (script, cls), rs in sorted(groups.items()):
        banded = [r for r in rs if r["band"] is not None]
        n_in = sum(inside(r["err"], r["band"]) for r in banded)
        share = f"{n_in / len(banded):.0%}" if banded else "-"
        print(f"  {script:18s} {cls:30s} {n_in:3d} / {len(banded):3d} ({share}), no band {len(rs) - len(banded)}")


if __name__ == "__main__":
    main()
