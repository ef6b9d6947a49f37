"""Do the error bands cover the out-of-sample rows band_coverage.py does not read? (hO, session 76)

out_of_sample_s56/moe_training.py (4 rows) and out_of_sample_s55/mlperf_lora.py (4 rows): each row's chosen plan is
priced again with `estimate_training` (the `train --json` call: same model, system, stack, dtype and plan) and its
`error_band` read; covered = the row's rate error inside [low, high] (moe rows: predicted / published - 1, MFU or
tokens/s at a fixed FLOP count; LoRA rows: published minutes / model minutes - 1, the steps alone and with MLPerf's
in-run evaluations, `train` prices no evaluation). Every published figure is RECALLED, as in the two scripts.
Run from the repository root (~10 s):
    PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s76/band_coverage_more.py
"""

from __future__ import annotations

import contextlib
import io
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# appended, not prepended: s56 / s55 hold older copies of this folder's serving_oos2.py / oos_collectives.py
sys.path += [os.path.join(HERE, "..", "out_of_sample_s56"), os.path.join(HERE, "..", "out_of_sample_s55")]

import mlperf_lora as ml  # noqa: E402
import moe_training as mt  # noqa: E402

from infraplan.training import estimate_training  # noqa: E402


def _band(r) -> tuple[float, float] | None:  # type: ignore[no-untyped-def]
    return None if r.error_band is None else (r.error_band.low, r.error_band.high)


def moe_rows() -> list[tuple[str, float, tuple[float, float] | None]]:
    k = mt.frontier_constants()
    out = []
    for row in mt.ROWS:
        ln = mt.run_row(row, k)
        plan = dict(ln["plan"])
        gpus = plan.pop("gpus")
        plan = {**row["plan"], **plan}
        plan.setdefault("dp", gpus // (plan["tp"] * plan["pp"] * plan.get("cp", 1)))
        r = estimate_training(row["model"], row["system"], gpus, stack=row["stack"], **plan)
        out.append((ln["id"], ln["error"], _band(r)))
    return out


def lora_rows() -> list[tuple[str, float, tuple[float, float] | None]]:
    out = []
    for row in ml.ROWS:
        with contextlib.redirect_stdout(io.StringIO()):
            best = ml.run_row(row)
        if best is None:
            continue
        plan = dict(tp=best["tp"], cp=best["cp"], pp=1, dp=best["dp"], seq_len=ml.SEQ, global_batch=best["gbs"],
                    micro_batch=1, recompute="none", zero=1, dtype="fp8", stack=ml.STACK)
        r = estimate_training("llama2-70b", row["system"], row["gpus"], lora_rank=16, **plan)
        out.append((row["id"] + " (steps)", best["err_steps"], _band(r)))
        out.append((row["id"] + " (eval)", best["err"], _band(r)))
    return out


def main() -> None:
    for name, rows in (("moe_training.py", moe_rows()), ("mlperf_lora.py", lora_rows())):
        inside = 0
        for rid, err, band in rows:
            ok = band is not None and band[0] <= err <= band[1]
            inside += ok
            b = "no band" if band is None else f"band {band[0]:+.1%}..{band[1]:+.1%}"
            print(f"{name:16s} {rid:30s} {err:+7.1%} {b} {'in' if ok else 'OUT'}")
        print(f"{name:16s} coverage {inside} / {len(rows)} ({inside / len(rows):.0%})")


if __name__ == "__main__":
    main()
