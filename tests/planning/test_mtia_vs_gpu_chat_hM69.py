"""examples/mtia-vs-gpu.yaml's LLM half compares something (hM69): its `chat` service is sized on the mtia-400 pool
(priced on pytorch-mtia, the ASSUMPTION profile Meta parts default to), where before `plan` printed "not sized:
chat on mtia-400 (2026): mtia-400 (Meta): no shipped serving stack runs there". The MILP then picks between it and
the H100 pool. The header quotes the 2026 sizing: since hM2 the service asks mxfp8, which pytorch-mtia runs on MTIA
400 (its `weight_formats`): 57 MTIA 400 (57 replicas of TP1 PP1 mxfp8) at 480 requests/s, where bf16 took 104."""

from __future__ import annotations

import math
from pathlib import Path

from infraplan.planning.scenario_sizing import size
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mtia-vs-gpu.yaml"


def test_the_example_sizes_chat_on_mtia_400_and_its_header_says_the_figures() -> None:
    spec: ScenarioSpec = load_scenario(str(EXAMPLE))
    chat = next(s for s in spec.services if s.name == "chat")
    pool = next(p for p in spec.pools if p.name == "mtia-400")
    rate = 200 * 2.0 * (1 + spec.policy.headroom)  # 2026: growth 2.0, headroom 0.2 -> 480 requests/s
    sized = size(chat, pool, rate)
    assert not isinstance(sized, str), sized
    assert chat.dtypes == ["bf16", "fp8", "mxfp8"]
    assert sized.serving_stack == "pytorch-mtia" and sized.precision.startswith("mxfp8 weights and activations")
    assert sized.serving_stack_basis is not None and "is an ASSUMPTION" in sized.serving_stack_basis
    replicas = math.ceil(rate / sized.capacity - 1e-9)  # the detail's "57 replicas" (capacity = 480 / 57)
    header = " ".join(line.lstrip("# ") for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
                      if line.startswith("#"))
    assert (replicas, sized.unit_devices) == (57, 1)
    assert f"{replicas * sized.unit_devices} MTIA 400 ({replicas} replicas of TP1 PP1 mxfp8" in header
    assert f"{sized.capacity:.2f} requests/s each" in header
