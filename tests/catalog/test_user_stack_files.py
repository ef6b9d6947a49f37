"""An ML engineer's own `--stack FILE`: a shipped stack plus the fields it changes, classed by its `stack_class`.

Each test failed before: stack files had no `extends` (a whole 150-line copy to change one field), and a copy
named mine.yaml took the any-stack error band as "stack class mine" although its `stack_class` field, documented as
"family for error bands and the search guard", said megatron; serve-plan classed a serving file by its name where
serve classed it by its engine.
"""

from __future__ import annotations

from pathlib import Path

from infraplan.catalog.answer_bands import band_stack
from infraplan.catalog.stacks import list_stacks, load_stack
from infraplan.serving.capacity import search_capacity
from infraplan.serving.serving_api import estimate_serving
from infraplan.training import estimate_training

PLAN = dict(gpus=8, tp=8, seq_len=1024, global_batch=8, dtype="bf16")  # small layers: the host issue shows


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return str(path)


def test_a_stack_file_that_extends_a_shipped_stack_changes_only_what_it_sets(tmp_path) -> None:
    same = _write(tmp_path, "same.yaml", "extends: nemo-26.04\n")
    eager = _write(tmp_path, "eager.yaml", "extends: nemo-26.04\ncuda_graphs: false\n")
    shipped = estimate_training("llama3-8b", "dgx-h100-superpod", stack="nemo-26.04", **PLAN)
    assert estimate_training("llama3-8b", "dgx-h100-superpod", stack=same, **PLAN).step_time_s == shipped.step_time_s
    slower = estimate_training("llama3-8b", "dgx-h100-superpod", stack=eager, **PLAN)
    assert slower.step_time_s > shipped.step_time_s  # the host issues every kernel (0.185 -> 0.309 s)
    assert load_stack(eager).tp_comm_overlap_fraction == load_stack("nemo-26.04").tp_comm_overlap_fraction


def test_a_users_training_stack_takes_the_band_of_its_stack_class(tmp_path) -> None:
    mine = _write(tmp_path, "mine.yaml", "extends: nemo-26.04\n")
    shipped = estimate_training("llama3-8b", "dgx-h100-superpod", stack="nemo-26.04", **PLAN)
    assert estimate_training("llama3-8b", "dgx-h100-superpod", stack=mine, **PLAN).error_band == shipped.error_band
    for name in list_stacks():  # a shipped stack keeps the name its stored residuals are labelled by
        assert band_stack(load_stack(name)) == name


def test_serve_and_serve_plan_class_a_users_serving_stack_alike(tmp_path) -> None:
    mine = _write(tmp_path, "my-engine.yaml", "extends: trtllm-0.x\ncustom_all_reduce: false\n")
    served = estimate_serving("llama3-8b", "hgx-h200", 1, dtype="fp8", rate=2.0, workload="chat", requests=50,
                              stack=mine)
    planned = search_capacity("llama3-8b", "hgx-h200", rate=2.0, workload="chat", dtypes=("fp8",), stack=mine,
                              requests=60, max_gpus=2)
    assert planned.error_band == served.error_band and "stack class trtllm" in served.error_band.basis
