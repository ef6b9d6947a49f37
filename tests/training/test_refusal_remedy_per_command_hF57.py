"""The remedy a framework refusal names is one the command offers (hF, session 57; hW56's leftover).

hW56's two refusals (fp8 attention on MLA at CP > 1; LoRA on MLA's down projections at TP > 1 with sequence
parallelism, `training.plan_rules.framework_refusals`) ended with "use CP 1, ..." and "use TP 1 or
--no-sequence-parallel" in `train`'s error and in `search`'s note alike, but `search` has neither a --cp nor a
--no-sequence-parallel option (it runs SP at every TP > 1: `training.axes`), so its note sent the user to a flag it
refuses. Now `train` names its flags and `search` says what it proposes instead.
Checked failing before: on the base tree both search notes carried the train remedy (the asserts on "search runs
sequence parallelism" / "search keeps CP 1" fail).
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

BASE = load_stack("nemo-24.12")
FP8_DPA = BASE.model_copy(update={"fp8": BASE.fp8.model_copy(update={"dot_product_attention": True})})
SMALL = load_model("deepseek-v3").model_copy(update={"num_layers": 4, "num_experts": 8})  # a search in 0.1 s
V3: dict[str, Any] = dict(model="deepseek-v3", system="dgx-h100-superpod", gpus=64, seq_len=4096, global_batch=64,
                          recompute="full")


def _refused(notes: list[str], what: str) -> str:
    said = [n for n in notes if f"plans not proposed: {what}" in n]
    assert len(said) == 1, notes
    return said[0]


def test_train_names_its_own_flags() -> None:
    with pytest.raises(InputError, match="; use TP 1 or --no-sequence-parallel, as Bridge's MLA recipes do$"):
        estimate_training(tp=2, dp=32, ep=32, lora_rank=16, **V3)
    estimate_training(tp=2, dp=32, ep=32, lora_rank=16, sequence_parallel=False, **V3)  # the way out it names runs
    with pytest.raises(InputError, match="; use CP 1, --dtype bf16 or a stack without fp8 attention$"):
        estimate_training(tp=1, cp=2, dp=32, ep=64, dtype="fp8", stack=FP8_DPA, **V3)


def test_search_says_what_it_proposes_instead() -> None:
    lora = _refused(search_plans(SMALL, "dgx-h100-superpod", 16, 4096, 64, lora_rank=16, top=1).notes,
                    "LoRA on MLA's down projections")
    assert "use TP 1 or --no-sequence-parallel" not in lora
    assert lora.endswith("search runs sequence parallelism at every TP > 1, so it proposes TP 1 for them, as "
                         "Bridge's MLA recipes run (`train --no-sequence-parallel` prices a TP > 1 plan with SP off)")
    fp8 = _refused(search_plans(SMALL, "dgx-h100-superpod", 16, 4096, 64, dtype="fp8", stack=FP8_DPA, top=1).notes,
                   "fp8 dot-product attention")
    assert "use CP 1" not in fp8 and "search keeps CP 1 for this stack's fp8, MXFP8 and NVFP4 plans" in fp8


@pytest.mark.parametrize("flag", ["--no-sequence-parallel", "--cp"])
def test_search_has_no_such_flag(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    """What the search note relies on: were these options added to `search`, its remedy should name them."""
    args = ["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
            "--global-batch", "16", flag, *(["2"] if flag == "--cp" else [])]
    assert main(args) == 2
    assert "No such option" in capsys.readouterr().err
