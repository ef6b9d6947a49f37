"""`train`'s slower-precision note, generalised (helper hE, validation/notes/product_review_tried.md): a plan in any
lower precision the accelerator runs is compared with the same plan in every wider one (`ELEMENT_BITS`), and said
where one is faster. NVFP4 on B200 (llama3-70b, 8 GPUs TP8, seq 4,096, batch 64, full recompute: 14.9 s a step
against fp8's 14.3 s and MXFP8's 13.7 s) got no note before (the note compared fp8 with bf16 only). Notes only: the
estimate itself, and so `search`, are unchanged."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from infraplan.training import estimate as estimate_module
from infraplan.training.enums import Dtype
from infraplan.training.estimate import estimate_training
from infraplan.training.fp8_slower_note import higher_precisions, slower_precision_note

B200_70B: dict[str, Any] = dict(tp=8, pp=1, seq_len=4096, global_batch=64, recompute="full")


def _slower(notes: list[str]) -> list[str]:
    return [n for n in notes if " is slower than " in n]


def test_nvfp4_slower_than_the_8_bit_formats_on_b200_is_said() -> None:
    runs = {d: estimate_training("llama3-70b", "dgx-b200", 8, dtype=d, **B200_70B)
            for d in ("nvfp4", "fp8", "mxfp8", "bf16")}
    nv, fp8, mx = runs["nvfp4"], runs["fp8"], runs["mxfp8"]
    assert nv.step_time_s > fp8.step_time_s > mx.step_time_s  # 14.9 > 14.3 > 13.7 s
    (note,) = _slower(nv.notes)
    # the fastest wider format named in full, the other that beats it listed; bf16 is slower and not named
    assert note.startswith("nvfp4 is slower than mxfp8 on this plan (the model's estimate, not a measurement)")
    assert f"{nv.tokens_per_s_per_gpu:,.0f} vs {mx.tokens_per_s_per_gpu:,.0f} tokens/s/GPU in mxfp8" in note
    assert f"slower than fp8 too ({fp8.tokens_per_s_per_gpu:,.0f} tokens/s/GPU)" in note and "bf16" not in note
    # what costs more: the exposed TP traffic (quantised all-gathers) and the casts; the GEMMs save
    costs, savings = note.split("; it saves in ")
    tp = nv.breakdown_s.tp_comm - mx.breakdown_s.tp_comm
    assert tp > 0 and f"tp_comm {tp:+.3f} s" in costs
    assert f"compute {nv.breakdown_s.compute - mx.breakdown_s.compute:+.3f} s" in savings
    assert not any(_slower(runs[d].notes) for d in ("fp8", "mxfp8", "bf16"))  # each as fast as every wider one


def test_the_note_changes_nothing_but_the_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    with_note = estimate_training("llama3-70b", "dgx-b200", 8, dtype="nvfp4", **B200_70B)
    monkeypatch.setattr(estimate_module, "higher_precisions", lambda plan, accelerator: [])
    without = estimate_training("llama3-70b", "dgx-b200", 8, dtype="nvfp4", **B200_70B)
    assert _slower(with_note.notes) and not _slower(without.notes)
    assert with_note.model_dump(exclude={"notes"}) == without.model_dump(exclude={"notes"})


def test_nvfp4_faster_than_fp8_gets_no_note() -> None:
    nv = estimate_training("llama3-70b", "dgx-b200", 8, tp=8, pp=1, seq_len=8192, global_batch=16, dtype="nvfp4")
    fp8 = estimate_training("llama3-70b", "dgx-b200", 8, tp=8, pp=1, seq_len=8192, global_batch=16, dtype="fp8")
    assert nv.step_time_s < fp8.step_time_s and not _slower(nv.notes)


def test_wider_formats_are_those_the_accelerator_runs() -> None:
    from infraplan.cluster import Cluster

    def plan(dtype: str) -> Any:  # `higher_precisions` reads only a plan's dtype column
        return SimpleNamespace(is_one=False, dtype=np.array([int(Dtype.parse(dtype, "--dtype"))]))

    b200, h100 = Cluster.resolve("dgx-b200").accelerator, Cluster.resolve("dgx-h100-superpod").accelerator
    assert higher_precisions(plan("nvfp4"), b200) == ["bf16", "fp8", "mxfp8"]  # against every 8- and 16-bit one
    assert higher_precisions(plan("fp8"), b200) == ["bf16"]  # fp8 and MXFP8 are both 8-bit: neither is lower
    assert higher_precisions(plan("mxfp8"), b200) == ["bf16"]
    assert higher_precisions(plan("fp8"), h100) == ["bf16"] and higher_precisions(plan("bf16"), b200) == []


def test_the_fastest_wider_format_is_named_and_a_non_fitting_one_said() -> None:
    terms = dict(compute=1.0, tp_comm=0.5, cp_comm=0.0, ep_comm=0.0, pp_bubble=0.0, pp_comm=0.0,
                 dp_comm_exposed=0.0, optimizer=0.0, other=0.5, host_exposed=0.0)
    low: dict[str, Any] = {**terms, "tokens_per_s_per_gpu": 90.0, "fits": True}
    higher = {"bf16": {**terms, "tokens_per_s_per_gpu": 80.0, "fits": True},
              "fp8": {**terms, "compute": 1.4, "tp_comm": 0.2, "tokens_per_s_per_gpu": 100.0, "fits": False},
              "mxfp8": {**terms, "tokens_per_s_per_gpu": 95.0, "fits": True}}
    note = slower_precision_note(low, "nvfp4", higher)
    assert note is not None
    assert note.startswith("nvfp4 is slower than fp8 on this plan")
    assert "90 vs 100 tokens/s/GPU in fp8 (-10.0 %), though the fp8 plan does not fit in memory" in note
    assert "slower than mxfp8 too (95 tokens/s/GPU)" in note and "bf16" not in note
    assert "nvfp4 costs more in tp_comm +0.300 s" in note and "saves in compute -0.400 s" in note
    assert slower_precision_note({**low, "tokens_per_s_per_gpu": 100.0}, "nvfp4", higher) is None
