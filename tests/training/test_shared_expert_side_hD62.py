"""The shared expert's side stream under `moe_shared_expert_overlap` (hD, session 62; `training.shared_expert_side`):
Megatron-Core 0.16.1 runs the shared expert's SP gather, FC1, FC2 and SP reduce-scatter on one side stream from the
router on (token_dispatcher.py:625-626, :688-689, :828-830; shared_experts.py:154-277), beside the main stream's
dispatch all-to-all, routed experts and combine. The pair's collectives hide where the other stream leaves the links
free; the GEMMs of the two streams share the SMs. No shipped stack sets the overlap: a stack file does here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.training.estimate import estimate_training
from infraplan.training.shared_expert_side import block_seconds

DSV3 = dict(model="deepseek-v3", system="dgx-h100-superpod", gpus=256, tp=2, pp=8, ep=16, seq_len=4096,
            global_batch=1024)


def _stack(tmp_path: Path) -> str:
    path = tmp_path / "shared-overlap.yaml"
    path.write_text("extends: nemo-26.04\nname: shared-overlap\nmoe:\n  shared_expert_overlap: true\n")
    return str(path)


def test_a_long_dispatch_hides_the_whole_side_chain() -> None:
    """Across scale-up domains the pair's links are not the all-to-all's: a side chain (0.5 + 1 + 0.5) shorter than
    the dispatch (2 of the 4) ends inside it, and the block is the main chain alone: 4 + 1."""
    assert block_seconds(4.0, 1.0, 0.5, 1.0, 0.5, 1.0) == pytest.approx(5.0)


def test_inside_one_domain_the_pair_shares_the_all_to_alls_links() -> None:
    """The same block inside one NVLink domain: the dispatch waits for the gather's bytes, so only the GEMMs hide
    (5.5 of 6.5)."""
    assert block_seconds(4.0, 1.0, 0.5, 1.0, 0.5, 0.0) == pytest.approx(5.5)


def test_the_combine_is_not_under_a_chain_that_ended() -> None:
    """Halves 0.5, GEMMs 1 and 1, the pair 0.5 + 0.5: the gather beside the dispatch, the two GEMM runs sharing the
    SMs to 2.5, then the scatter beside the combine: 3. Session 56's rule hid min(all-to-all, shared GEMMs) = 1 of
    the all-to-all, the combine's half included, and priced the pair exposed (the same 3 by another path)."""
    assert block_seconds(1.0, 1.0, 0.5, 1.0, 0.5, 1.0) == pytest.approx(3.0)
    # without a pair (TP 1) the shared GEMMs hide up to the dispatch only: 0.5 of the 1, not the combine
    assert block_seconds(1.0, 1.0, 0.0, 1.0, 0.0, 1.0) == pytest.approx(2.5)
    # shorter than the dispatch: all of the shared GEMMs hidden (session 56's figure)
    assert block_seconds(4.0, 1.0, 0.0, 1.0, 0.0, 1.0) == pytest.approx(5.0)


def test_a_stack_file_with_the_overlap_hides_the_shared_pair(tmp_path: Path) -> None:
    """DeepSeek-V3 at TP2 PP8 EP16 on 256 H100 (the all-to-all crosses nodes): the shared GEMMs hide under the
    dispatch as before (EP 7.568 -> 7.158 s a step), and now the shared expert's TP pair under it too (TP 1.842 ->
    1.548 s; it was priced exposed): the step 19.26 -> 18.95 s (19.69 s without the overlap). hK62: the dispatcher's
    gather / scatter over expert TP 2 is not TE's async dgrad path's (`training.tp_overlap.te_linear_records`): TP
    2.311 -> 2.018 s, the step 19.445 s (20.185 s without the overlap). hD63: MLA's T x h records carry the FFN
    half's `outside_te` marks as the GQA layer's do (validation/notes/training_sets_tried.md, session 63 hD): TP
    2.018 -> 2.092 s, the step 19.445 -> 19.523 s (off: TP 2.312 s, the step 20.186 s); the pins were left at hK62's
    values and failed on HEAD 3d014383 (hP63)."""
    stack = _stack(tmp_path)
    off = estimate_training(**DSV3, stack="nemo-26.04")  # type: ignore[arg-type]
    on = estimate_training(**DSV3, stack=stack)  # type: ignore[arg-type]
    b_off, b_on = dict(off.breakdown_s), dict(on.breakdown_s)
    assert b_on["compute"] == b_off["compute"]  # the side stream takes no SMs the GEMMs count
    assert b_on["ep_comm"] == pytest.approx(7.158, abs=1e-3) and b_off["ep_comm"] == pytest.approx(7.568, abs=1e-3)
    assert b_on["tp_comm"] == pytest.approx(2.0918, abs=1e-3) and b_off["tp_comm"] == pytest.approx(2.3119, abs=1e-3)
    assert on.step_time_s == pytest.approx(19.523, abs=1e-2) and on.step_time_s < off.step_time_s


def test_the_cli_prices_the_stack_file_as_the_api(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = _stack(tmp_path)
    capsys.readouterr()
    assert cli_main(["train", "deepseek-v3", "--system", "dgx-h100-superpod", "--gpus", "256", "--tp", "2", "--pp",
                     "8", "--ep", "16", "--seq-len", "4096", "--global-batch", "1024", "--stack", stack,
                     "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["stack"] == "shared-overlap"
    assert got["step_time_s"] == pytest.approx(estimate_training(**DSV3, stack=stack).step_time_s,  # type: ignore[arg-type]
                                               rel=1e-12)


def test_llama4_scouts_combine_stays_exposed(tmp_path: Path) -> None:
    """Llama 4 Scout (a shared expert as wide as its one routed expert) at TP4 EP4 on 32 H100: the two GEMM runs end
    together, so the combine all-to-all runs after both and is exposed (EP 0.527 s a step; session 56's rule hid the
    whole 1.054 under the shared GEMMs). hK62 (`training.tp_overlap`): the userbuffers hide neither the dispatcher's
    gather / scatter over expert TP 4 nor the shared pair under the overlap (Megatron's own calls), so TP is 1.205 s
    without the overlap and 1.455 with it (the pair hidden by the side stream only; 0.537 -> 0.120 s before)."""
    plan = dict(model="llama4-scout", system="dgx-h100-superpod", gpus=32, tp=4, ep=4, seq_len=4096,
                global_batch=256)
    off = dict(estimate_training(**plan, stack="nemo-26.04").breakdown_s)  # type: ignore[arg-type]
    on = dict(estimate_training(**plan, stack=_stack(tmp_path)).breakdown_s)  # type: ignore[arg-type]
    assert on["ep_comm"] == pytest.approx(off["ep_comm"] / 2.0, rel=1e-6)
    assert on["tp_comm"] == pytest.approx(1.4554, abs=1e-3) and off["tp_comm"] == pytest.approx(1.2050, abs=1e-3)
