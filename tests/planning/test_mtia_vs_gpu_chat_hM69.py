"""examples/mtia-vs-gpu.yaml's LLM half compares something (hM69): its `chat` service is sized on the mtia-400 pool
(priced on pytorch-mtia, the ASSUMPTION profile Meta parts default to), where before `plan` printed "not sized:
chat on mtia-400 (2026): mtia-400 (Meta): no shipped serving stack runs there". The MILP then picks between it and
the H100 pool. The header quotes the 2026 sizing: 104 MTIA 400 (26 replicas of TP1 PP4 bf16) at 480 requests/s."""

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
    assert sized.serving_stack == "pytorch-mtia" and sized.precision.startswith("bf16")
    assert sized.serving_stack_basis is not None and "is an ASSUMPTION" in sized.serving_stack_basis
    replicas = math.ceil(rate / sized.capacity - 1e-9)  # the detail's "26 replicas" (capacity = 480 / 26)
    header = " ".join(line.lstrip("# ") for line in EXAMPLE.read_text(encoding="utf-8").splitlines()
                      if line.startswith("#"))
    assert (replicas, sized.unit_devices) == (26, 4)
    assert f"{replicas * sized.unit_devices} MTIA 400 ({replicas} replicas of TP1 PP4 bf16" in header
    assert f"{sized.capacity:.1f} requests/s each" in header
