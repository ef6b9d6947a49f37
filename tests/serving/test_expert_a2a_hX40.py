"""The busiest GPU's EP all-to-all where EP does not divide the experts, and serve-plan's note (`serving.expert_slots`,
hX40)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.ops.layer import Collective, layer_ops
from infraplan.serving import expert_slots
from infraplan.serving.engines import load_engine
from infraplan.serving.host_overhead import inference_layout
from infraplan.serving.layer_work import serving_collective_time
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost

R1 = load_model("deepseek-r1")  # 256 routed experts, top-8, h 7168
TOKENS = 64.0  # per rank


def _all_to_all(ep: int, tokens: float = TOKENS) -> Collective:
    """DeepSeek-R1's EP dispatch / combine record on one GPU of a wide-EP replica (TP 1, attention DP = EP)."""
    ops = layer_ops(R1, inference_layout(1, ep, ep, np.array([tokens])))
    (a2a,) = [c for c in ops.collectives_fwd if c.role == "ep"]
    assert a2a.kind == "all_to_all" and float(np.ravel(a2a.group)[0]) == ep
    return a2a


def test_ep72_busiest_rank_receives_its_four_experts_copies() -> None:
    """EP 72 over 256 experts, top-8, 64 tokens a rank: the 72 ranks route 64 x 8 x 72 = 36,864 copies, 144 to each
    expert; the busiest GPU holds 4 experts and receives 4 x 144 = 576 copies of 7168 x 2 B = 8,257,536 B (and
    sends their outputs back), not the mean rank's 64 x 8 = 512 copies (7,340,032 B)."""
    mean = _all_to_all(72)
    mean_bytes = TOKENS * 8.0 * 7168.0 * 2.0
    assert float(np.ravel(mean.bytes)[0]) == mean_bytes == 7_340_032.0
    busiest = expert_slots.busiest_rank_collective(mean, 256.0 / 72.0)
    copies = 4.0 * (TOKENS * 8.0 * 72.0 / 256.0)
    assert copies == 576.0
    assert float(np.ravel(busiest.bytes)[0]) == pytest.approx(copies * 7168.0 * 2.0, rel=1e-12)
    assert float(np.ravel(busiest.bytes)[0]) == pytest.approx(8_257_536.0, rel=1e-12)
    assert (busiest.count, busiest.group, busiest.kind) == (mean.count, mean.group, mean.kind)


@pytest.mark.parametrize("ep", [8, 64])
def test_where_ep_divides_the_all_to_all_is_todays(ep: int) -> None:
    """EP 8 and 64 divide 256: the same record (today's bytes, 64 x 8 x 7168 x 2 B), and other collectives pass."""
    mean = _all_to_all(ep)
    assert expert_slots.busiest_rank_collective(mean, 256.0 / ep) is mean
    assert float(np.ravel(mean.bytes)[0]) == TOKENS * 8.0 * 7168.0 * 2.0
    tp = Collective("all_reduce", "tp", 1e6, 8, 1)
    assert expert_slots.busiest_rank_collective(tp, 256.0 / 72.0) is tp


def test_iteration_prices_the_busiest_ranks_all_to_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """The iteration body at EP 72 carries, per layer, the busiest rank's dispatch + combine in place of the mean
    rank's: body(now) - body(mean all-to-all) = 61 layers x (t(busiest bytes) - t(mean bytes)), and that inbound
    excess is in the part the lock-step ranks price on their mean tokens (`extra["routed_s"]`)."""
    cluster = Cluster.resolve("gb200-nvl72")
    dep = Deployment(tp=1, ep=72, attention_dp=72, dtype="fp8", max_batch=64, token_budget=2048, engine="sglang",
                     stack="sglang-0.x")
    busiest = build_iteration_cost(R1, cluster.accelerator, cluster.fabric, dep)
    monkeypatch.setattr(expert_slots, "busiest_rank_collective", lambda c, mean_local_experts, spare=0.0: c)
    mean = build_iteration_cost(R1, cluster.accelerator, cluster.fabric, dep)
    for m in (64, 512):  # 7.3 and 59 MB a rank (at 8 tokens, 0.9 MB, the model's all-to-all is flat to 1.03 MB)
        a2a = _all_to_all(72, float(m))
        bigger = Collective(a2a.kind, a2a.role, np.asarray(a2a.bytes) * 4.0 / (256.0 / 72.0), a2a.group,
                            a2a.stride, a2a.count, a2a.mask)
        fabric = cluster.fabric
        more = serving_collective_time(fabric, bigger) - serving_collective_time(fabric, a2a)
        delta = 61.0 * float(np.ravel(more)[0])
        assert delta > 0
        assert busiest.body_s[m] - mean.body_s[m] == pytest.approx(delta, rel=1e-6)
        assert busiest.extra["routed_s"][m] - mean.extra["routed_s"][m] == pytest.approx(delta, rel=1e-6)


def test_the_note_names_the_all_to_all() -> None:
    note = expert_slots.uneven_experts_note(R1, 72, "sglang")
    assert note is not None and "all-to-all bytes, are priced on 4 experts" in note


def _uneven_model(root: Path, model_type: str) -> Path:
    """A 12-expert MoE too large for one H200 (613 GiB in bf16) and one head (TP 1 only): on an 8-GPU HGX only wide
    EP over 8 GPUs fits it (2 experts a GPU; EP 4's 3 do not), and 8 does not divide 12."""
    path = root / f"uneven-{model_type}"
    path.mkdir()
    experts = {"num_experts": 12, "moe_intermediate_size": 32768} if model_type == "qwen3_moe" else {
        "num_local_experts": 12}
    config = {"model_type": model_type, "hidden_size": 8192, "num_attention_heads": 1, "num_key_value_heads": 1,
              "head_dim": 128, "num_hidden_layers": 34, "intermediate_size": 32768, "num_experts_per_tok": 2,
              "vocab_size": 32000, "max_position_embeddings": 8192, **experts}
    (path / "config.json").write_text(json.dumps(config))
    return path / "config.json"


PLAN = ["--system", "hgx-h200", "--rate", "1", "--input-len", "200", "--output-len", "50", "--ttft-slo", "10",
        "--tpot-slo", "1", "--dtypes", "bf16", "--json"]


def test_serve_plan_gives_serves_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """serve-plan's wide EP 8 over 12 experts carries the note `serve` gives for the same layout (one sentence), and
    its serve_command rerun through `serve` says the same."""
    config = _uneven_model(tmp_path, "qwen3_moe")
    assert main(["serve-plan", str(config), *PLAN]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert (plan["deployment"]["ep"], plan["deployment"]["attention_dp"]) == (8, 8)
    note = expert_slots.uneven_experts_note(load_model(str(config)), 8, load_engine(None).engine)
    assert note is not None and note in plan["notes"]
    assert main([*shlex.split(plan["serve_command"])[1:], "--json"]) == 0
    assert note in json.loads(capsys.readouterr().out)["warnings"]


def test_sglang_mixtral_at_ep_not_dividing_is_refused_and_not_planned(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """SGLang builds a Mixtral's fused MoE on its E experts alone (no redundant slots), whose EP must divide them:
    `serve` refuses EP 8 over 12 experts in one line (exit 2); serve-plan rejects the layout with that reason."""
    config = _uneven_model(tmp_path, "mixtral")
    args = ["serve", str(config), "--system", "hgx-h200", "--gpus", "8", "--attention-dp", "8", "--ep", "8",
            "--stack", "sglang-0.x", "--offline", "--input-len", "200", "--output-len", "20"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SGLang cannot serve" in err[0] and "EP must divide them" in err[0]
    assert main(["serve-plan", str(config), *PLAN, "--stack", "sglang-0.x"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["deployment"] is None or plan["deployment"]["ep"] != 8
    assert any("DP-attention8 EP8" in r and "SGLang cannot serve" in r for r in plan["rejected"])
