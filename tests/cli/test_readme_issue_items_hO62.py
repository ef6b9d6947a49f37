"""Two issue items the README did not document, read back from the tool (hO62's audit of issues 12 and 13).

Issue 13 item 3, MoE routing (balanced the default, real routing with a stated factor, token dropping with a capacity
factor): the stack keys `moe.load_imbalance` and `moe.capacity_factor` (catalog/moe_routing.py) were priced and named in
`train`'s note, but the README said only "imbalance": a user could not learn from it how to state a learned router's
imbalance or token dropping. The README's sentence names both keys and gives DeepSeek-V3's step on the "Usage"
section's 512-GB200 plan balanced and at 1.25 of either; the test parses those figures and re-prices the plan.

Issue 12 item 4, the loss over fp32 logits for large vocabularies in several passes: priced per stack
(`training/head_time.py`: bytes per local logit and kernels of each implementation) but the README's kernel list named
none of it; its sentence now gives each implementation's bytes and kernels, compared here with the constants priced.
"""

from __future__ import annotations

import re

from tests.user_docs import doc_path

from infraplan.catalog.model_recipes import stack_for_model
from infraplan.catalog.stacks import load_stack
from infraplan.training import head_time
from infraplan.training.estimate import estimate_training

README = re.sub(r"\s+", " ", doc_path("modelling").read_text())  # "What is modelled" (docs/, hM64)
USAGE_TEXT = re.sub(r"\s+", " ", doc_path("usage").read_text())
PLAN = dict(model="deepseek-v3", system="gb200-nvl72-superpod", gpus=512, tp=1, pp=8, ep=64, order="tp-cp-dp-pp",
            seq_len=4096, global_batch=4096, dtype="fp8", recompute="auto")
USAGE = ("infraplan train deepseek-v3 --system gb200-nvl72-superpod --gpus 512 --tp 1 --pp 8 --ep 64 "
         "--order tp-cp-dp-pp --seq-len 4096 --global-batch 4096 --dtype fp8 --recompute auto")


def test_the_readme_names_both_keys_and_the_tool_gives_its_figures() -> None:
    assert USAGE in USAGE_TEXT.replace(" \\ ", " ")  # the plan the sentence refers to is the Usage line
    found = re.findall(r"`moe: \{load_imbalance: ([\d.]+)\}` or token dropping at `moe: \{capacity_factor: ([\d.]+)\}`"
                       r".*?512-GB200 plan of \"Usage\": ([\d.]+) s a step balanced, ([\d.]+) s at either", README)
    assert len(found) == 1, found
    imbalance, capacity, balanced, routed = found[0]
    nemo = stack_for_model(load_stack("nemo-26.04"), "deepseek-v3")  # as `--stack FILE` with `extends:` gets it
    assert nemo.moe.load_imbalance == 1.0 and nemo.moe.capacity_factor is None  # balanced is the default
    base = estimate_training(**PLAN)  # type: ignore[arg-type]
    assert any(n.startswith("MoE routing priced force-balanced") for n in base.notes)
    assert f"{base.step_time_s:.2f}" == balanced
    for key, value in (("load_imbalance", imbalance), ("capacity_factor", capacity)):
        stack = nemo.model_copy(update={"moe": nemo.moe.model_copy(update={key: float(value)})})
        est = estimate_training(**PLAN, stack=stack)  # type: ignore[arg-type]
        assert f"{est.step_time_s:.2f}" == routed, (key, est.step_time_s)
        assert any(f"moe.{key}" in n for n in est.notes), key


def test_the_readme_gives_each_losss_bytes_and_kernels_as_priced() -> None:
    found = re.findall(r"Megatron's unfused cross-entropy (\d+) B a local logit in (\d+) kernels, its fused one "
                       r"(\d+) B in (\d+), Megatron-Core's native fused loss (\d+) B in (\d+), "
                       r"torchtitan's F.cross_entropy (\d+) B in (\d+) at TP 1 and (\d+) B in (\d+) under "
                       r"loss_parallel "
                       r"at TP > 1", README)
    assert len(found) == 1, found
    said = [float(x) for x in found[0]]
    priced = [*head_time.CROSS_ENTROPY_PASSES[False], *head_time.CROSS_ENTROPY_PASSES[True],
              *head_time.NATIVE_CROSS_ENTROPY_PASSES, *head_time.TORCH_CROSS_ENTROPY_PASSES[False],
              *head_time.TORCH_CROSS_ENTROPY_PASSES[True]]
    assert said == priced
