"""Two plans a framework raises on, refused by `train` (exit 2 / HTTP 422 / InputError) and not proposed by `search`
(counted and said; hW, session 56; `training.plan_rules.framework_refusals`).

1. fp8 dot-product attention on MLA at CP > 1: Transformer Engine 2.14 drops FusedAttention for fp8 with unequal q/k
   and v heads under context parallelism (pytorch/attention/dot_product_attention/utils.py:832-837) after fp8_dpa
   dropped FlashAttention and the unfused path (:473-487), so dot_product_attention.py:1431 raises.
2. LoRA on MLA's down projections at TP > 1 with sequence parallelism: Megatron-Bridge 0.6.0 reshapes the
   replicated adapter's gathered T x out output to the TELinear's (T / TP) x out shard (peft/lora_layers.py:83).
Checked failing before: on the base tree `train` priced both plans (exit 0) and `search` pruned none (no note).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans
from infraplan.web.app import create_app

V3: dict[str, Any] = dict(model="deepseek-v3", system="dgx-h100-superpod", gpus=64, seq_len=4096, global_batch=64,
          recompute="full")
BASE = load_stack("nemo-24.12")
FP8_DPA = BASE.model_copy(update={"fp8": BASE.fp8.model_copy(update={"dot_product_attention": True})})
SMALL = load_model("deepseek-v3").model_copy(update={"num_layers": 4, "num_experts": 8})  # a search in 0.1 s


def test_fp8_attention_on_mla_refused_at_cp_2_only() -> None:
    with pytest.raises(InputError, match="fp8 dot-product attention .* MLA.* context parallelism"):
        estimate_training(tp=1, cp=2, dp=32, ep=64, dtype="fp8", stack=FP8_DPA, **V3)
    estimate_training(tp=1, cp=1, dp=64, ep=64, dtype="fp8", stack=FP8_DPA, **V3)  # CP 1 runs
    estimate_training(tp=1, cp=2, dp=32, ep=64, dtype="fp8", stack=BASE, **V3)  # bf16 attention runs at CP 2
    estimate_training(tp=1, cp=2, dp=32, ep=64, dtype="bf16", stack=FP8_DPA, **V3)  # a bf16 plan: no fp8 attention
    # GQA (equal q/k and v heads) keeps fp8 attention under CP (utils.py:832's condition is head_dim_qk != head_dim_v)
    estimate_training("llama2-70b", "dgx-h100-superpod", 16, tp=4, cp=2, dp=2, seq_len=4096, global_batch=64,
                      recompute="full", dtype="fp8", stack=FP8_DPA)


def test_lora_down_adapters_refused_at_tp_2_with_sp_only() -> None:
    with pytest.raises(InputError, match="LoRA on MLA's down projections .* sequence parallelism at TP > 1"):
        estimate_training(tp=2, dp=32, ep=32, lora_rank=16, **V3)
    estimate_training(tp=2, dp=32, ep=32, lora_rank=16, sequence_parallel=False, **V3)
    estimate_training(tp=1, dp=64, ep=64, lora_rank=16, lora_targets="all", **V3)
    estimate_training(tp=2, dp=32, ep=32, **V3)  # a full fine-tune: no adapter


def test_search_prunes_them_counted_and_said() -> None:
    fp8 = search_plans(SMALL, "dgx-h100-superpod", 16, 4096, 64, dtype="fp8", stack=FP8_DPA, top=3)
    said = [n for n in fp8.notes if "plans not proposed: fp8 dot-product attention" in n]
    assert len(said) == 1 and int(said[0].split()[0].replace(",", "")) > 0
    assert fp8.top and all(row.config.cp == 1 for row in fp8.top)
    lora = search_plans(SMALL, "dgx-h100-superpod", 16, 4096, 64, lora_rank=16, top=3)
    said = [n for n in lora.notes if "plans not proposed: LoRA on MLA's down projections" in n]
    assert len(said) == 1 and int(said[0].split()[0].replace(",", "")) > 0
    assert lora.top and all(row.config.tp == 1 or not row.config.sequence_parallel for row in lora.top)
    plain = search_plans(SMALL, "dgx-h100-superpod", 16, 4096, 64, dtype="fp8", stack=BASE, top=1)
    assert not [n for n in plain.notes if "plans not proposed" in n]


def test_cli_and_web_refuse_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = tmp_path / "fp8dpa.yaml"
    stack.write_text(yaml.safe_dump({"display_name": "fp8 dpa", "extends": "nemo-24.12", "source": "test",
                                     "fp8": {"recipe": "delayed", "dot_product_attention": True}}), encoding="utf-8")
    args = ["train", "deepseek-v3", "--system", "dgx-h100-superpod", "--gpus", "64", "--seq-len", "4096",
            "--global-batch", "64", "--recompute", "full"]
    capsys.readouterr()
    assert main([*args, "--ep", "64", "--cp", "2", "--dtype", "fp8", "--stack", str(stack)]) == 2
    err = capsys.readouterr().err.strip()
    assert "Transformer Engine 2.14 has no backend" in err and len(err.splitlines()) == 1
    assert main([*args, "--ep", "32", "--tp", "2", "--lora-rank", "16"]) == 2
    err = capsys.readouterr().err.strip()
    assert "peft/lora_layers.py:83" in err and len(err.splitlines()) == 1
    body = {"model": "deepseek-v3", "system": "dgx-h100-superpod", "gpus": 64, "seq_len": 4096, "global_batch": 64,
            "recompute": "full", "ep": 32, "tp": 2, "lora_rank": 16}
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        web = client.post("/api/train", json=body)
    assert 400 <= web.status_code < 500 and "peft/lora_layers.py:83" in web.json()["detail"]
