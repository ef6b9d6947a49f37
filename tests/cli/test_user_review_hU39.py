"""hU39 (session 39): a demanding user's review of the frontier questions (validation/notes/product_review_tried.md).

Two answers differed from the same question asked another way:

* `search` said nothing of what `train` says of the same plan (its notes held only the accelerator's figures): the
  stack's model recipe, the NVL72 rank placement, the force-balanced MoE routing, and whether the best plan's EP
  group stays inside one scale-up domain (the user's "is EP kept inside the 72-GPU domain, and why?").
* `validate` runs each frontier row with its Megatron-Bridge performance configuration's settings, which no shipped
  stack carries: a user typing the published plan got the default stack's answer (DeepSeek-V3 on 256 GB200 MXFP8:
  4,151 tokens/s per GPU against validate's 5,152 and the published 4,969). `examples/stacks/frontier-<id>.yaml`
  are those stacks as user files; these tests hold them to `validation.sets.frontier_row_stack`.

Regenerate the files (after a change to a row's settings): `.venv/bin/python tests/cli/test_user_review_hU39.py`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli.conftest import CliRun

from infraplan.catalog import load_model
from infraplan.catalog.model_recipes import recipe_key, stack_for_model
from infraplan.catalog.stacks import Stack, load_stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.training import estimate_training
from infraplan.training.moe_notes import moe_notes, search_notes
from infraplan.validation.sets import FRONTIER_STACK, frontier_row_stack, load_frontier_rows, row_recompute

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "examples" / "stacks"
# a stack's labels and its recipe bookkeeping: the files write the recipe's settings out (model_recipes: [])
LABELS = {"name", "display_name", "source", "recipe_model", "model_recipes"}


def _settings(stack: Stack) -> dict[str, Any]:
    return {k: v for k, v in stack.model_dump().items() if k not in LABELS}


def _rows() -> list[dict[str, str]]:
    return [r for r in load_frontier_rows() if not r["awaiting_issue_13"]]


def _stack_file(row: dict[str, str]) -> Path:
    return STACKS / f"frontier-{row['id'].lower()}.yaml"


def _train_argv(row: dict[str, str]) -> list[str]:
    """`infraplan train` of the row's plan as validate runs it (recompute, order), on the default stack."""
    argv = ["train", row["infraplan_model"], "--system", row["infraplan_system"], "--gpus", row["n_accel"],
            "--tp", row["tp"], "--pp", row["pp"], "--cp", row["cp"], "--vpp", row["vpp"] or "1",
            "--seq-len", row["seq_len"], "--global-batch", row["global_batch"], "--micro-batch", row["micro_batch"],
            "--zero", row["zero"], "--dtype", row["precision"], "--recompute", row_recompute(row),
            "--ep", row.get("ep") or "1"]
    argv += ["--order", row["order"]] if row.get("order") else []
    return argv + (["--etp", row["etp"]] if row.get("etp") else [])


def test_search_says_what_train_says_of_its_best_plan(cli: CliRun) -> None:
    """The search's notes were [] where `train` of its best plan named the recipe, the placement and the routing."""
    code, out, _ = cli(["search", "deepseek-v3", "--system", "gb200-nvl72-superpod", "--gpus", "512", "--seq-len",
                        "4096", "--global-batch", "4096", "--dtype", "fp8", "--top", "1", "--json"])
    assert code == 0
    found = json.loads(out)
    best = found["best"]
    code, out, _ = cli([*best["train_command"].split()[1:], "--json"])
    assert code == 0
    trained = json.loads(out)
    assert trained["tokens_per_s_per_gpu"] == best["tokens_per_s_per_gpu"]
    shared = [n for n in trained["notes"] if n.startswith(("stack nemo-26.04 runs", "ranks placed", "MoE routing"))]
    assert len(shared) == 3 and all(n in found["notes"] for n in shared), found["notes"]
    assert best["config"]["ep"] > 1
    inside = [n for n in found["notes"] if "lies inside one" in n]
    assert len(inside) == 1 and "inside one 72-GPU scale-up domain" in inside[0]


def test_search_notes_say_where_an_ep_group_crosses_domains() -> None:
    """EP 16 on 8-GPU nodes spans 2 domains: the crossing is said, never the 'inside one domain' line (`moe_notes`,
    a search's through `plan_notes.train_plan_notes` since hD77)."""
    shape, cluster = load_model("deepseek-v3"), Cluster.resolve("dgx-h100-superpod")
    stack = resolve_stack(None, "training", recipe_key(shape))
    crossing = moe_notes(shape, stack, cluster.fabric, 16, 1, 1024)
    assert any(n.startswith("EP 16 (peers 1 rank apart) is priced over 2 scale-up domains") for n in crossing)
    assert not any("lies inside one" in n for n in crossing)
    inside = moe_notes(shape, stack, cluster.fabric, 8, 1, 1024)
    assert any("inside one 8-GPU scale-up domain" in n for n in inside)
    dense = load_model("llama3-8b")  # no recipe, no launcher placement on a DGX, no plan: nothing to say
    plain = resolve_stack(None, "training", recipe_key(dense))
    assert search_notes(dense, plain, cluster.fabric, cluster.system.node, 1024, False) == []


def test_a_scaling_search_keeps_every_points_notes(cli: CliRun) -> None:
    """`search --gpus 64,512` kept the first point's notes only: the 512-GPU point's NVL72 placement was lost."""
    code, out, _ = cli(["search", "llama3-8b", "--system", "gb200-nvl72-superpod", "--gpus", "64,512",
                        "--seq-len", "4096", "--global-batch", "512", "--json"])
    assert code == 0
    notes = json.loads(out)["notes"]
    assert any(n.startswith("ranks placed 64 GPUs per 72-GPU NVLink domain") for n in notes), notes


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["id"])
def test_each_frontier_row_has_its_validated_stack_as_a_file(row: dict[str, str]) -> None:
    """A row whose validated stack is not what `train` gives by default has a file resolving to that stack."""
    validated = frontier_row_stack(row)
    default = stack_for_model(load_stack(FRONTIER_STACK), row["infraplan_model"])
    path = _stack_file(row)
    if _settings(validated) == _settings(default):
        assert not path.exists(), f"{path.name}: the default stack already runs {row['id']} as validate does"
        return
    assert path.exists(), f"{row['id']}: no {path.name} (regenerate: python {Path(__file__).relative_to(ROOT)})"
    as_user = resolve_stack(str(path), "training", recipe_key(load_model(row["infraplan_model"])))
    assert _settings(as_user) == _settings(validated)


def test_train_with_a_frontier_stack_file_gives_validates_prediction(cli: CliRun) -> None:
    """DeepSeek-V3, 256 GB200, MXFP8 (H015): 4,151 tokens/s per GPU on the default stack, 5,152 as validate runs it
    (`validation.sets.frontier_set`'s call), 4,969 published."""
    row = next(r for r in _rows() if r["id"] == "H015")
    validated = estimate_training(
        row["infraplan_model"], row["infraplan_system"], int(row["n_accel"]), tp=int(row["tp"]), pp=int(row["pp"]),
        cp=int(row["cp"]), vpp=int(row["vpp"] or 1), seq_len=int(row["seq_len"]),
        global_batch=int(row["global_batch"]), micro_batch=int(row["micro_batch"]), recompute=row_recompute(row),
        zero=int(row["zero"]), dtype=row["precision"], stack=frontier_row_stack(row), ep=int(row["ep"] or 1),
        order=row["order"] or None, etp=int(row["etp"]) if row["etp"] else None)
    code, out, _ = cli([*_train_argv(row), "--stack", str(_stack_file(row)), "--json"])
    assert code == 0
    assert json.loads(out)["tokens_per_s_per_gpu"] == validated.tokens_per_s_per_gpu
    assert abs(validated.tokens_per_s_per_gpu / float(row["value"]) - 1) < 0.1
    code, out, _ = cli([*_train_argv(row), "--json"])  # the default stack: the answer a user got (PP4 x VP4: a
    assert code == 0 and json.loads(out)["tokens_per_s_per_gpu"] < 0.85 * float(row["value"])  # recipe layout's)


@pytest.mark.parametrize(("command", "accelerator", "dtype", "named"), [
    (["serve", "llama3-8b", "--gpus", "1", "--rate", "1", "--requests", "20", "--dtype"], "h100-sxm", "nvfp4",
     "use bf16, fp8, int8, or the weight-only int4 or mxfp4"),
    (["serve", "llama3-8b", "--gpus", "1", "--rate", "1", "--requests", "20", "--stack", "vllm-0.x", "--dtype"],
     "mtia-400", "fp8", "use bf16, int8, mxfp4 (native), or the weight-only int4"),  # vLLM runs no mxfp8 (hV40);
    # mxfp4 native on MTIA 400's fp4 tensor cores, at its mxfp8 rate (hU56: it was offered as weight-only, and refused)
    (["serve-plan", "llama3-8b", "--rate", "1", "--ttft-slo", "1s", "--tpot-slo", "50ms", "--dtypes"], "h100-sxm",
     "nvfp4", "use bf16, fp8, int8, or the weight-only int4 or mxfp4"),
])
def test_a_refused_weight_format_names_the_formats_the_part_runs(cli: CliRun, command: list[str], accelerator: str,
                                                                 dtype: str, named: str) -> None:
    """fp4 on H100 was told "use bf16, or the weight-only int4 or mxfp4", never fp8, which H100 serves."""
    code, out, err = cli([*command, dtype, "--system", accelerator, "--input-len", "100", "--output-len", "50"])
    assert code == 2 and not out and err.count("\n") == 1
    assert f"{accelerator} has no {dtype} support" in err or "runs none of them" in err
    assert named in err, err


def test_train_refusing_a_precision_names_those_the_part_trains_in(cli: CliRun) -> None:
    """NVFP4 on H100 said only "h100-sxm has no nvfp4 peak in its catalog file" (`search` names the formats)."""
    code, out, err = cli(["train", "deepseek-v3", "--system", "dgx-h100-superpod", "--gpus", "512", "--tp", "1",
                          "--pp", "8", "--ep", "64", "--seq-len", "4096", "--global-batch", "4096", "--dtype", "nvfp4"])
    assert code == 2 and not out and err.count("\n") == 1
    assert "h100-sxm has no nvfp4 peak in its catalog file; it trains in bf16, fp8" in err, err


def _file_text(row: dict[str, str]) -> str:
    """The stack file of a row: the validated stack's settings that differ from nemo-26.04's, its recipe written out."""
    base = load_stack(FRONTIER_STACK).model_dump(mode="json")
    mine = frontier_row_stack(row).model_dump(mode="json")
    diff = {k: v for k, v in mine.items() if k not in LABELS and base.get(k) != v}
    for key in ("moe", "fp8"):
        if isinstance(diff.get(key), dict):
            diff[key] = {k: v for k, v in mine[key].items() if base[key].get(k) != v}
    basis = (row["perf_config"].split(" (")[0] if row["settings_basis"] == "perf_config" else
             "no performance configuration matches this plan: nemo-26.04 with the row's own columns")
    source = (f"the settings infraplan validate runs frontier row {row['id']} with (validation.sets."
              f"frontier_row_stack): {basis}; every setting with its file:line in src/infraplan/validation/data/"
              "frontier_training.csv (perf_settings_source, recompute_source); its model's recipe written out, not "
              "re-applied (model_recipes: [])")
    title = (f"Frontier row {row['id']}: {row['model']} on {row['n_accel']} x {row['hardware']}, {row['plan']}, "
             f"{row['dtype']}, {row['software']}; published {row['value']} {row['unit']}.")
    return ("".join(f"# {line}\n" for line in textwrap.wrap(title, 116)) +
            "# Written by hU39 from validation.sets.frontier_row_stack; tests/cli/test_user_review_hU39.py checks "
            "that this\n# file resolves to that stack, so `train --stack` with it gives validate's prediction.\n" +
            yaml.safe_dump({"display_name": f"frontier row {row['id']} ({row['infraplan_model']}, "
                            f"{row['infraplan_system']}, {row['precision']}), as validate runs it",
                            "extends": FRONTIER_STACK}, sort_keys=False, width=118) +
            "source: >-\n" + "".join(f"  {line}\n" for line in textwrap.wrap(source, 114, break_on_hyphens=False)) +
            "model_recipes: []\n" + yaml.safe_dump(diff, sort_keys=False, width=118))


if __name__ == "__main__":  # write examples/stacks/frontier-<id>.yaml for the rows whose default stack differs
    STACKS.mkdir(exist_ok=True)
    for r in _rows():
        if _settings(frontier_row_stack(r)) != _settings(stack_for_model(load_stack(FRONTIER_STACK),
                                                                        r["infraplan_model"])):
            _stack_file(r).write_text(_file_text(r))
