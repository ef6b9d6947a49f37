"""GPT-OSS 120B's step terms outside the layer's kernels (hO61, session 48; training_sets_tried.md round 18).

The frontier rows H022 (64 B200, TP1 PP1 EP8, MBS 4) and H023 (64 H100, TP1 PP4 EP8, MBS 1) run their
Megatron-Bridge 0.6.0 performance configurations (perf_recipes/gpt_oss/{b200,h100}/gpt_oss.py:25-58): the
alltoall dispatcher without EP overlap, distributed optimizer with overlap_grad_reduce / overlap_param_gather
(base recipes/gpt_oss/h100/gpt_oss.py:258-261), no virtual stages (:187), the embedding and the loss not counted
in the pipeline split (:198-199). Each test ties one of those terms to a source independent of the model.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest

import infraplan.training.step_time as step_time_module
from infraplan.training.step_assembly import assemble_step
from infraplan.validation.sets import frontier_row_estimate, frontier_row_stack, load_frontier_rows

CATALOG = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "nccl"
HIDDEN, TOP_K, VOCAB_PADDED = 2880, 4, 201088  # GPT-OSS 120B (HF config; 201,088 = 1,571 x 128)


def _row(row_id: str) -> dict[str, str]:
    return next(r for r in load_frontier_rows() if r["id"] == row_id)


def _estimate_with_terms(row_id: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, dict[str, Any]]:
    """The row's estimate and the per-layer terms and traffic its step was assembled from."""
    seen: dict[str, Any] = {}
    def spy(plan: Any, lt: dict[str, Any], traffic: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        seen.update(traffic)
        seen.update(lt)
        return assemble_step(plan, lt, traffic, *args, **kwargs)

    monkeypatch.setattr(step_time_module, "assemble_step", spy)
    row = _row(row_id)
    return frontier_row_estimate(row, frontier_row_stack(row)), {k: float(v) for k, v in seen.items()
                                                                 if isinstance(v, (int, float))}


def _measured_all_to_all_s(device: str, size_bytes: float) -> float:
    """NCCL 2.29.2's 8-GPU all-to-all on one NVSwitch board (AIConfigurator 0.12.0's table, which the model does not
    price from by default: `network.nvlink_collectives` is off), log-log between the measured sizes."""
    path = CATALOG / f"aiconfigurator_{device}_collectives.csv"
    with path.open() as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    points = [(float(r["size_bytes"]), float(r["alltoall_8gpu_us"]) * 1e-6) for r in rows]
    for (s0, t0), (s1, t1) in zip(points, points[1:], strict=False):
        if s0 <= size_bytes <= s1:
            share = math.log(size_bytes / s0) / math.log(s1 / s0)
            return math.exp(math.log(t0) + share * math.log(t1 / t0))
    raise AssertionError(f"{size_bytes} B outside the measured sizes")


@pytest.mark.parametrize(("row_id", "device", "tokens", "stage_layers"),
                         [("H022", "b200", 16384, 36), ("H023", "h100", 4096, 9)])
def test_ep_all_to_all_at_the_measured_nccl_rate(row_id: str, device: str, tokens: int, stage_layers: int) -> None:
    """Each direction of a layer sends its T x k routed rows of h bf16 values twice (dispatch + combine; megatron-core
    0.16.1 token_dispatcher.py alltoall dispatcher), unhidden (no EP overlap in these configs): the model's EP time
    per layer and micro-batch is two measured 8-GPU all-to-alls of that send buffer, within 10 %."""
    row = _row(row_id)
    result = frontier_row_estimate(row, frontier_row_stack(row))
    micro_batches = result.config.micro_batches
    per_direction = result.breakdown_s.ep_comm / (stage_layers * micro_batches * 2.0)
    measured = 2.0 * _measured_all_to_all_s(device, tokens * TOP_K * HIDDEN * 2.0)
    assert per_direction == pytest.approx(measured, rel=0.10)


def test_h023_runs_eighty_micro_batches_a_rank() -> None:
    """GBS / (MBS x DP): 1,280 / (1 x 64 / (TP1 x PP4)) = 80 (not 20), the count the 1F1B bubble is spread over."""
    row = _row("H023")
    assert frontier_row_estimate(row, frontier_row_stack(row)).config.micro_batches == 1280 // (1 * 64 // 4)


def test_h022_dp_exposure_between_megatrons_overlap_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    """With overlap_param_gather the distributed optimizer launches the first parameter all-gather in zero_grad and
    each next one from a forward pre-hook (megatron-core 0.16.1 distrib_optimizer.py:2613-2619,
    param_and_grad_buffer.py:302-338): the gathers hide under ONE micro-batch's forward only, so at least their
    excess over it is exposed; at most, the reduce-scatter and the all-gather both (no overlap at all)."""
    result, t = _estimate_with_terms("H022", monkeypatch)
    layers = t["stage_layers"]
    forward = (layers * (t["compute_fwd"] + t["other_fwd"] + t["ep_fwd"]) + t["head_gpu_fwd"]
               + t["embed_gpu_fwd"])
    exposed = result.breakdown_s.dp_comm_exposed
    assert t["gather"] - forward <= exposed <= t["gather"] + t["scatter"]


@pytest.mark.parametrize("row_id", ["H022", "H023"])
def test_published_tflops_are_megatron_bridges_count_at_the_published_tokens(row_id: str) -> None:
    """The rows' model TFLOP/s/GPU and tokens/s/GPU both follow from one step time: their ratio is Megatron-Bridge
    0.3.1's count for GPT-OSS (training/utils/flop_utils.py: 12 L h (f k) for the experts, the gated 3/2 only for
    SiLU (:280-282, GPT-OSS's clamped GeGLU is not), causal s / 2 scores on every layer (:363), 6 h V for the
    logits), 27.16 GFLOP a token, within the 3-figure rounding of the published TFLOP/s."""
    row = _row(row_id)
    layers, heads, head_dim, groups, seq = 36, 64, 64, 8, 4096
    ratio = heads * head_dim / HIDDEN
    mlp = 12 * layers * HIDDEN * HIDDEN * TOP_K
    attention = 12 * layers * HIDDEN * HIDDEN * (1 + groups / heads + seq / HIDDEN / 2) * ratio
    per_token = mlp + attention + 6 * HIDDEN * VOCAB_PADDED
    published_tflops = float(row["derived"].split()[0])
    assert published_tflops * 1e12 / float(row["value"]) == pytest.approx(per_token, rel=0.004)
