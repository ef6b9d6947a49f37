"""DeepSpeed's ZeRO-1 / 2 gradient reduction priced as the all-reduce it runs (hK, session 54): the deepspeed stack with
`grad_reduce_all_reduce` off (HEAD 6f42eaa's pricing, a reduce-scatter) and on (shipped since; sources in
src/infraplan/catalog/stacks/deepspeed.yaml `grad_reduce_all_reduce_source` and training_sets_tried.md, hK session
54, item 2 (c)). Out-of-sample DeepSpeed rows and two PP 1 plans on the shipped stack.
Run from the repository root:
PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s52/zero12_allreduce_probe.py
"""

from __future__ import annotations

import sys

from infraplan.catalog.stacks import Stack, load_stack
from infraplan.training.estimate import estimate_training
from infraplan.validation.runner import run_case

sys.path.insert(0, "validation/notes/out_of_sample_s52")
from oos import CASES  # noqa: E402

IDS = ("bloom-176b-384", "mtnlg-530b-2240", "mtnlg-530b-2800", "mtnlg-530b-3360")
EXTRA = (("llama3-8b ZeRO-2 PP1 64 H100", "llama3-8b", 64, dict(tp=1, dp=64, zero=2)),
         ("llama3-70b ZeRO-1 TP8 PP1 512 H100", "llama3-70b", 512, dict(tp=8, dp=64, zero=1)))
_SEEN = dict(pp=1, vpp=1, micro_batch=1, seq_len=4096, recompute="selective", dtype="bf16", attention="flash")


def run(tag: str, stack: Stack) -> None:
    for case in CASES:
        if case["id"] in IDS:
            r = run_case({**case, "stack": stack, "plan_source": "assumed", "source": ""})
            print(f"{tag} {case['id']:18s} {r.predicted:8.2f} ({r.error:+.2%})")
    for name, model, gpus, plan in EXTRA:
        e = estimate_training(model, "dgx-h100-superpod", gpus, **plan, **_SEEN, global_batch=gpus // plan["tp"] * 4,
                              stack=stack)
        print(f"{tag} {name:34s} step {e.step_time_s:.4f} s, dp exposed {e.breakdown_s.dp_comm_exposed:.4f} s")


if __name__ == "__main__":
    shipped = load_stack("deepspeed")
    run("reduce-scatter (off)", shipped.model_copy(update={"grad_reduce_all_reduce": False}))
    run("all-reduce (shipped)", shipped)
