"""hV73's review of hF73's adaptive routing (`network.adaptive_routing`): the pooled links checked against an
independent limit, the seed, and the words the CLI and the web give for the flow model's options.

1. Pooling is the fluid limit of hashing: any ECMP routing's link loads fit the pools (a pool is its members' summed
   capacity), so the pooled answer is no slower than ECMP at any flow count, and ECMP approaches it as a pair's flows
   grow (the law of large numbers over the hash). Measured (64 MiB send-recv, flow / alpha-beta line): the toy's
   3-tier fabric as InfiniBand, 128 spread: pooled 1.000x, ECMP 2.49x / 1.17x / 1.03x at 1 / 64 / 1,024 flows a pair;
   o4 (6 unrailed leaves a domain at 1:4), 128 packed: pooled 1.008x, ECMP 2.58x / 1.17x / 1.05x. A pool summing
   links no flow of the pair may take would answer below the limit; one missing members, above it.
2. Adaptive routing hashes nothing: with no failed link the seed changes no answer (it still moves ECMP's).
3. `collective --flows-per-pair / --seed` said "ECMP flows per GPU pair" and "seed of the ECMP hashes" on every
   fabric, where since hF73 every catalog InfiniBand system spreads its flows (the web's words are the CLI's, hW47).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_toy_fabric import O4, TOY

from infraplan.catalog import load_system
from infraplan.cli.main import load_command
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective

SIZE = 64 * 2**20


def _as(tmp_path: Path, text: str, balancing: str) -> Cluster:
    path = tmp_path / f"fabric-{balancing}.yaml"
    path.write_text(text.replace("kind: roce", "kind: infiniband"))
    spec = load_system(str(path))
    net = spec.network.model_copy(update={"load_balancing": balancing, "load_balancing_source": "test"})
    return Cluster.resolve(spec.model_copy(update={"network": net}))


@pytest.mark.parametrize(("text", "placement", "gap"), [(TOY, "spread", 1.04), (O4, "packed", 1.06)])
def test_pooled_links_are_the_limit_ecmp_approaches(tmp_path: Path, text: str, placement: str, gap: float) -> None:
    pooled = estimate_collective("send-recv", _as(tmp_path, text, "adaptive"), 128, SIZE, placement=placement,
                                 sim="flow", flows_per_pair=1)
    hashed = _as(tmp_path, text, "ecmp")
    times = [estimate_collective("send-recv", hashed, 128, SIZE, placement=placement, sim="flow", flows_per_pair=k,
                                 seed=0).time_s for k in (1, 64, 1024)]
    assert pooled.time_s <= times[2] <= times[1] < times[0]
    assert times[2] < gap * pooled.time_s  # within 3-5 % at 1,024 flows a pair
    assert pooled.time_s == pytest.approx(pooled.analytical_time_s, rel=0.01)


def test_adaptive_routing_draws_nothing_from_the_seed(tmp_path: Path) -> None:
    adaptive, hashed = _as(tmp_path, TOY, "adaptive"), _as(tmp_path, TOY, "ecmp")
    for op in ("send-recv", "all-to-all"):
        spread = {estimate_collective(op, adaptive, 256, SIZE, sim="flow", flows_per_pair=1, seed=s).time_s
                  for s in (0, 1, 7)}
        assert len(spread) == 1, op
    assert len({estimate_collective("send-recv", hashed, 256, SIZE, sim="flow", flows_per_pair=1, seed=s).time_s
                for s in (0, 1, 7)}) > 1


def test_the_flow_options_say_what_an_adaptive_fabric_does() -> None:
    helps = {p.name: p.help or "" for p in load_command("collective").params}
    assert "adaptive" in helps["flows_per_pair"] and not helps["flows_per_pair"].startswith("ECMP")
    assert "adaptive fabric hashes nothing" in helps["seed"]
    assert "ECMP avoids" not in helps["failed_links"]
