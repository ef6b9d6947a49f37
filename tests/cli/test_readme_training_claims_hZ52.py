"""README's 'What is modelled' training figures read back from the tool (hZ, session 52).

Two README claims drifted silently for a day: the ZB-V example (Llama 3 8B on 64 H100, torchtitan, TP2 PP4, seq
8,192, batch 256: README 4.21 / 4.41 s, the tool 3.85 / 4.02 s after hT47's torchtitan pipeline cut, 8c062de) and
hybrid sharding's (Llama 3 70B on 1,024 H100, torchtitan TP8 ZeRO-3, full recompute, seq 8,192, batch 1,024: README
27.0 s at N = 128, the tool 11.5 s after hT87's per-step ring table read, d3e15f3; 13.0 s / 22.3 GiB at N = 8 ->
11.8 s after a22a3a0's NCCL tree changes, 22.65 GiB after hY45's communicator buffers, 8c062de). Each figure is
parsed from README.md's own sentence and compared, at its printed precision, with what `estimate_training` prices
for the plan the sentence names, so a change that moves one fails here until the README says the new figure.
hM (session 52): the 70B figures moved 12.9 -> 16.9 s (N = 128) and 12.5 -> 12.9 s (N = 8, memory unchanged) when
torchtitan's ZeRO-3 per-layer gathers and reduce-scatters were priced on each of the 8 micro-batches, not once a step
(`Stack.zero3_collectives_per_micro_batch`, torchtitan 0.3.0 trainer.py:885-930; the README updated with it).
hT (session 53): 16.9 -> 17.2 s (N = 128) and 12.9 -> 13.3 s (N = 8) when FSDP2's copy-out of each gather and copy-in
of each reduce-scatter (14 B per local weight element and micro-batch, `training.fsdp2_copies`, torch 2.5.1
_fsdp_collectives.py) were priced on torchtitan's ZeRO-3 plans; the README updated with it.
hS (session 53): 13.29 -> 13.40 s at N = 8 when ZeRO-3's step edges were priced (`training.zero3_edges`: the root's and
first block's gather before any compute and reduce-scatter after the last backward, 0.554 -> 0.669 s exposed over the
8 micro-batches); 17.2386 -> 17.2345 s at N = 128 (the bulk exposure already exceeds the edges there; the root's and
last block's backward copy-outs, which do not run, left out of `training.fsdp2_copies`); the README updated with it.
The ZB-V example 4.34 / 4.57 -> 4.46 / 4.70 s: torchtitan's ZeRO-2 under a pipeline keeps each stage's gradient
unsharded in fp32 over the 32 micro-batches and reduce-scatters after the last backward (torch.distributed.pipelining,
torch 2.11.0 stage.py:656-659, :989-1016; _fsdp_param.py:670-689): 328 B per stage weight a step, +0.127 s.
hZ (session 53): 4.46 / 4.70 -> 4.51 / 4.77 s: that reduce-scatter, after the first stage's last backward, is exposed
whole (`training.zero3_edges.deferred_zero2_form`, torch 2.5.1 stage.py:522-536), not hidden behind one micro-batch's
backward window (1F1B's DP exposure 0.085 s with it).
"""

from __future__ import annotations

import re

from tests.user_docs import user_docs_text

from infraplan.training.estimate import estimate_training

README = user_docs_text()  # README.md and docs/ joined: the claim once in all of them (hM64)
GIB = 2.0**30


def _one(pattern: str) -> re.Match[str]:
    """The user docs' sentence `pattern` matches (exactly one in README.md and docs/*.md, across line breaks)."""
    found = list(re.finditer(pattern, re.sub(r"\s+", " ", README)))
    assert len(found) == 1, f"README: {len(found)} matches of {pattern!r}"
    return found[0]


def _printed(text: str, value: float) -> None:
    """`value` rounded to the decimals `text` prints equals `text`."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert f"{value:.{decimals}f}" == text, f"README says {text}, the tool gives {value:.4f}"


def test_zb_v_example_is_the_tools() -> None:
    """ZB-V (`--vpp 2 --schedule zb-v`) against 1F1B on torchtitan's Llama 3 8B plan, the README's two step times."""
    found = _one(r"Llama 3 8B on 64 H100, torchtitan, TP2 PP4, seq 8192, batch 256: a step of ([\d.]+) s against "
                 r"1F1B's ([\d.]+) s\)")
    plan = dict(model="llama3-8b", system="dgx-h100-superpod", gpus=64, tp=2, pp=4, seq_len=8192, global_batch=256,
                stack="torchtitan")
    zbv = estimate_training(**plan, vpp=2, schedule="zb-v")
    one_f_one_b = estimate_training(**plan, schedule="1f1b")
    _printed(found.group(1), zbv.step_time_s)
    _printed(found.group(2), one_f_one_b.step_time_s)
    assert zbv.step_time_s < one_f_one_b.step_time_s


def test_hybrid_shard_example_is_the_tools() -> None:
    """`train --zero-shard N` on Llama 3 70B: the step at N = 128 (all of DP) and at N = 8 with its memory."""
    found = _one(r"Llama 3 70B on 1,024 H100, torchtitan TP8 ZeRO-3, full recompute, seq 8,192, batch 1,024: "
                 r"([\d.]+) s at N = 128 \(all of DP\), ([\d.]+) s and ([\d.]+) GiB per GPU at N = 8\)")
    plan = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=1024, tp=8, pp=1, seq_len=8192,
                global_batch=1024, recompute="full", zero=3, stack="torchtitan")
    whole = estimate_training(**plan)
    shard8 = estimate_training(**plan, zero_shard=8)
    assert whole.config.dp == 128
    _printed(found.group(1), whole.step_time_s)
    _printed(found.group(2), shard8.step_time_s)
    _printed(found.group(3), shard8.memory_per_gpu_bytes / GIB)
