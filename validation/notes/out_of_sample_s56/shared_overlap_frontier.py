"""hA (session 56): the frontier rows with `shared_expert_overlap` on where Megatron-Core would run it: models
with shared experts (DeepSeek-V3's bridge sets moe_shared_expert_overlap True), the alltoall dispatcher (flex forces
it off), no overlap_moe_expert_parallel_comm (Megatron-Bridge asserts them exclusive). Run from the repository root:
PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s56/shared_overlap_frontier.py
"""

import numpy as np

from infraplan.catalog.loader import load_model
from infraplan.training.expert_dispatch import with_flex_dispatcher
from infraplan.validation import sets

errs_off, errs_on = [], []
for r in sets.load_frontier_rows():
    if r["awaiting_issue_13"]:
        continue
    st = sets.frontier_row_stack(r)
    e0 = sets.frontier_row_estimate(r, st)
    shape = load_model(r["infraplan_model"])
    eff = with_flex_dispatcher(st, e0.accelerator)
    eligible = bool(shape.shared_ffn_hidden_size) and eff.moe.flex_backend is None and not eff.moe.overlap_ep_comm \
        and eff.moe.dispatcher == "alltoall"
    e1 = e0
    if eligible:
        st1 = st.model_copy(update={"moe": st.moe.model_copy(update={"shared_expert_overlap": True})})
        e1 = sets.frontier_row_estimate(r, st1)
    pub = float(r["value"])
    errs_off.append(e0.tokens_per_s_per_gpu / pub - 1)
    errs_on.append(e1.tokens_per_s_per_gpu / pub - 1)
    print(r["id"], r["infraplan_model"], "eligible" if eligible else "-", f"{errs_off[-1]:+.4f} -> {errs_on[-1]:+.4f}",
          eff.moe.dispatcher, eff.moe.flex_backend, eff.moe.overlap_ep_comm)
print("frontier mean", np.mean(np.abs(errs_off)), "->", np.mean(np.abs(errs_on)))
