"""MFU in one stated FLOP convention, the FLOPs the kernels execute beside it, and the published-MFU guard in the
figure's own convention (hF45, session 44).

Hand counts use Llama 3 8B's config.json (catalog/models/llama3-8b.json: L 32, h 4,096, 32 heads of 128, 8 KV
heads, SwiGLU FFN 14,336, vocab 128,256, untied head): per layer 4,096 x (4,096 + 2 x 1,024 + 4,096) attention and
3 x 4,096 x 14,336 FFN weights = 218,103,808; model FLOPs per token 6 N_layers + 12 L (heads d) s + 6 h V
(Narayanan et al. SC'21 appendix; PaLM appendix B's 12 L H Q T with H Q = heads x d).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml

from infraplan.catalog import load_model
from infraplan.catalog.published_mfu import PublishedMfu
from infraplan.training.estimate import estimate_training
from infraplan.training.flops import MODEL_FLOP_CONVENTION, causal_flops_ratio
from infraplan.training.results import published_mfu_flag

L, H, HEADS, D, V = 32, 4096, 32, 128, 128_256
LAYER_WEIGHTS = 4096 * (4096 + 2 * 1024 + 4096) + 3 * 4096 * 14336  # 218,103,808
H100_BF16_PEAK = 989e12  # catalog/accelerators/h100-sxm.yaml peak_flops_per_s.bf16

IDEAL = """extends: h100-sxm
display_name: ideal H100 (efficiency 1)
efficiency:
  matmul_max_fraction: {bf16: 1.0, fp16: 1.0, fp8: 1.0, tf32: 1.0}
  attention_max_fraction: 1.0
  attention_exp_per_s: 1.0e18
  memory_bandwidth_fraction: 1.0
  kernel_overhead_s: 0.0
"""


def _model_flops_per_token(seq: int) -> float:
    return 6.0 * L * LAYER_WEIGHTS + 12.0 * L * HEADS * D * seq + 6.0 * H * V


@pytest.fixture(scope="module")
def ideal(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("hF45") / "ideal-h100.yaml"
    path.write_text(IDEAL)
    return str(path)


def test_hand_counted_mfu_equals_the_reported_one() -> None:
    seq, batch, gpus = 8192, 16, 8
    r = estimate_training("llama3-8b", "h100-sxm", gpus, tp=8, seq_len=seq, global_batch=batch)
    by_hand = _model_flops_per_token(seq) * batch * seq / (r.step_time_s * gpus * H100_BF16_PEAK)
    assert r.mfu == pytest.approx(by_hand, rel=1e-9)
    assert r.mfu_flop_convention == MODEL_FLOP_CONVENTION and "full s x s" in r.mfu_flop_convention


def test_hand_counted_executed_flops_flash_no_recompute() -> None:
    """Flash attention runs the causal triangle: 2 s heads d forward per token, 2.5x that backward."""
    seq, batch, gpus = 8192, 16, 8
    r = estimate_training("llama3-8b", "h100-sxm", gpus, tp=8, seq_len=seq, global_batch=batch)
    per_token = 6.0 * L * LAYER_WEIGHTS + 3.5 * 2.0 * L * HEADS * D * seq + 6.0 * H * V
    by_hand = per_token * batch * seq / (r.step_time_s * gpus * H100_BF16_PEAK)
    assert r.executed_flops_utilisation == pytest.approx(by_hand, rel=1e-9)
    assert r.executed_flops_utilisation < r.mfu  # 7 s a d run against the convention's 12 s a d


def test_causal_ratio_by_hand() -> None:
    seq = 32768
    causal = 6.0 * L * LAYER_WEIGHTS + 6.0 * L * HEADS * D * seq + 6.0 * H * V
    ratio = float(causal_flops_ratio(load_model("llama3-8b"), seq))
    assert ratio == pytest.approx(causal / _model_flops_per_token(seq), rel=1e-12)


@pytest.mark.parametrize("recompute", ["none", "selective", "full"])
@pytest.mark.parametrize("attention", ["flash", "unfused"])
def test_ideal_part_long_sequence_never_above_one(ideal: str, recompute: str, attention: str) -> None:
    r = estimate_training("llama3-8b", ideal, 8, tp=8, seq_len=131072, global_batch=8, recompute=recompute,
                          attention=attention)
    assert 0.0 < r.executed_flops_utilisation <= 1.0
    if attention == "unfused":  # the unfused kernels run the full s x s: executed = the convention's, plus recompute
        assert r.executed_flops_utilisation == pytest.approx(r.hfu, rel=1e-9)


def test_ideal_part_above_100_percent_mfu_is_said(ideal: str) -> None:
    """The convention counts the full scores; on an ideal part at 128K the MFU passes 1, and a note says why."""
    r = estimate_training("llama3-8b", ideal, 8, tp=8, seq_len=131072, global_batch=8)
    assert r.mfu > 1.0 >= r.executed_flops_utilisation
    said = [n for n in r.notes if "above 100 %" in n]
    assert len(said) == 1 and "executed_flops_utilisation" in said[0]
    short = estimate_training("llama3-8b", "h100-sxm", 8, tp=8, seq_len=4096, global_batch=8)
    assert short.mfu < 1.0 and not [n for n in short.notes if "above 100 %" in n]


def _ceiling(convention: str) -> PublishedMfu:
    return PublishedMfu(family="hopper", stack="megatron", dtype="fp8", mfu=0.371, flop_convention=convention,
                        source="test")


def test_guard_compares_in_the_figures_convention() -> None:
    """0.38 in the full-scores convention is 0.361 with a causal ratio 0.95: within a causal-scores 0.371,
    beyond a full-scores 0.371."""
    assert published_mfu_flag(0.38, _ceiling("causal_scores"), causal_ratio=0.95) == {}
    flag = published_mfu_flag(0.38, _ceiling("full_scores"), causal_ratio=0.95)
    assert flag["beyond_published_mfu"] is True
    beyond = published_mfu_flag(0.40, _ceiling("causal_scores"), causal_ratio=0.95)  # 0.38 > 0.371
    assert "38.0% counting the causal half" in str(beyond["beyond_published_mfu_reason"])


def test_published_entries_state_their_convention() -> None:
    """Every shipped figure says its FLOP count in the file (the field's default is not relied on), and the
    Megatron-Bridge performance-summary figures are the causal-half ones (flop_utils.py:362-363)."""
    text = (resources.files("infraplan.catalog") / "published_mfu.yaml").read_text()
    entries = yaml.safe_load(text)["entries"]
    assert entries and all(e["flop_convention"] in ("full_scores", "causal_scores") for e in entries)
    for entry in entries:
        bridge = "Megatron-Bridge" in entry["source"]
        llama3 = "Llama 3 Herd of Models" in entry["source"]  # Table 4: the causal count (hF, session 51)
        assert (entry["flop_convention"] == "causal_scores") == (bridge or llama3), entry["source"]
