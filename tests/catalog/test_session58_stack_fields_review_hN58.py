"""Session 58's stack fields under hostile input and hand mutants (hN58 review of hI58).

* `custom_all_reduce_world_sizes` (vllm 0.15.1 distributed/device_communicators/custom_all_reduce.py:52
  `_SUPPORTED_WORLD_SIZES = [2, 4, 6, 8]`; :100-103 returns before building it at one rank): a size below 2 names
  no group the kernel runs on. Before, `[-2]` or `[0]` loaded and read as "never", silently NCCL at every TP (a
  Llama 3 8B TP 4 decode on H100 at 4.25 ms TPOT against 3.64 ms for the same YAML with `[]`); now refused, one line,
  exit 2. Checked failing before: test_a_world_size_below_two_is_refused (the stack loaded, serve exited 0).
* a user's serving YAML that leaves the field unset runs the engine family's sizes (`serving.engines.
  custom_all_reduce_world_sizes`): a mutant dropping that fallback (any size) survived hI58's tests.
* torchtitan's loss under loss_parallel issues three all-reduces (max, sum of exponentials, the masked target logit:
  torch distributed/tensor/parallel/loss.py `_log_softmax` :209-218 and `_nll_loss_forward`'s partial reduction)
  even where the stack also sets `fused_cross_entropy`: a mutant giving it the fused loss's two survived.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.serving.engines import load_engine
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.head_time import _end_collectives
from infraplan.training.plan import PlanArrays

VLLM = Path(__file__).parents[2] / "src/infraplan/catalog/stacks/vllm-0.x.yaml"


def _stack_file(tmp_path: Path, sizes: object, drop: bool = False) -> Path:
    data = yaml.safe_load(VLLM.read_text())
    data["name"] = "vllm-review"
    if drop:
        del data["serving"]["custom_all_reduce_world_sizes"]
    else:
        data["serving"]["custom_all_reduce_world_sizes"] = sizes
    path = tmp_path / "vllm-review.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("sizes", [[-2], [0], [1], [2, 0]])
def test_a_world_size_below_two_is_refused(tmp_path: Path, sizes: list[int],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = _stack_file(tmp_path, sizes)
    with pytest.raises(InputError, match="custom_all_reduce_world_sizes"):
        load_engine(str(path))
    code = main(["serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "4", "--tp", "4", "--stack",
                 str(path), "--requests", "5", "--rate", "5", "--workload", "chat"])
    err = capsys.readouterr()
    lines = [x for x in (err.out + err.err).splitlines() if x.strip()]
    assert code == 2 and len(lines) == 1 and "greater than or equal to 2" in lines[0]


def test_any_size_and_an_odd_size_load(tmp_path: Path) -> None:
    assert load_engine(str(_stack_file(tmp_path, []))).custom_all_reduce_at(3)  # []: any size in the domain
    odd = load_engine(str(_stack_file(tmp_path, [3])))
    assert odd.custom_all_reduce_at(3) and not odd.custom_all_reduce_at(4)


def test_a_yaml_without_the_field_runs_the_familys_sizes(tmp_path: Path) -> None:
    engine = load_engine(str(_stack_file(tmp_path, None, drop=True)))
    assert engine.custom_all_reduce_world_sizes == (2, 4, 6, 8)
    assert engine.custom_all_reduce_at(8) and not engine.custom_all_reduce_at(16)


def test_torchs_loss_all_reduces_three_times_even_fused() -> None:
    plan = PlanArrays.build(tp=2, pp=1, dp=4, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=8, seq_len=4096,
                            recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16, attention=Attention.FLASH,
                            order=RankOrder.TP_CP_DP_PP).one_row
    shape = load_model("llama3-8b")
    fused_titan = load_stack("torchtitan").model_copy(update={"fused_cross_entropy": True})
    loss = _end_collectives(shape, plan, 4096.0, fused_titan)[("head", "fwd")][1]
    assert loss.kind == "all_reduce" and loss.count == 3.0
    megatron = load_stack("torchtitan").model_copy(update={"fused_cross_entropy": True, "cross_entropy_impl": "te"})
    assert _end_collectives(shape, plan, 4096.0, megatron)[("head", "fwd")][1].count == 2.0
