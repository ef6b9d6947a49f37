"""`collective` reports what `train` and `serve` price for the same collective (hT71, session 49).

hC70 found the command's alpha-beta `time_s` 2.7x below train's gradient all-reduce of Llama 3 8B over 128 nodes
and 1.4x below train's in-node 16 MiB TP all-reduce: train prices the message-size efficiency (the SimAI NCCL
tables at the group's node count; inside one scale-up domain AIConfigurator's measured NVLink curves), the command
the line its flow model shares. The command now reports both: `priced_time_s` (train's figure,
`network.priced_collective` calling `collectives.collective_seconds`), with the efficiency it read and its source
(`priced_basis`), and the alpha-beta line; since hC52 the priced time is the analytical answer's `time_s` and the
line `alpha_beta_time_s` (each test below reads the line there, where it read `time_s` before).
tests/consistency/test_train_comm_is_collective_hC70.py holds train's terms to `priced_time_s` to the bit; here the
relations that hold without train.
"""

from __future__ import annotations

import math

import pytest
from simai_held_cells import held_cell
from tests.cli.conftest import cli_json

from infraplan.cli import main
from infraplan.cli.commands._output import fmt_seconds
from infraplan.cluster import Cluster
from infraplan.network import nvlink_latency
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import NCCL_NET_STEP_LATENCY_S
from infraplan.network.results import CollectiveResult

SYSTEM = "dgx-h100-superpod"  # 8 H100 per node, 1:1 fabric of 16,384 GPUs
OPS = ("all-reduce", "reduce-scatter", "all-gather", "all-to-all", "send-recv")
GROUPS = ((8, "packed"), (64, "packed"), (1024, "spread"))  # one node; 8 nodes; 1,024 nodes (stride 16)


def _answer(op: str, gpus: int, size: float, placement: str = "packed", system: str = SYSTEM,
            sim: str = "analytical") -> CollectiveResult:
    return estimate_collective(op, Cluster.resolve(system).for_gpus(gpus), gpus, size, placement=placement, sim=sim)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(("gpus", "placement"), GROUPS)
def test_the_priced_time_is_never_below_the_alpha_beta_line(op: str, gpus: int, placement: str) -> None:
    """A message-size efficiency only bounds a candidate from below: priced >= the alpha-beta line of the algorithm
    it names at every size, and the answer is the priced time (hC52); send-recv (a pipeline hop, no efficiency)
    prices the same time."""
    for size in (2.0**16, 2.0**24, 2.0**30, 2.0**33):
        r = _answer(op, gpus, size, placement)
        assert r.time_s == r.priced_time_s
        if op == "send-recv":
            assert r.priced_time_s == pytest.approx(r.alpha_beta_time_s, rel=1e-12) and r.priced_efficiency is None
        else:
            floor = r.alpha_beta_time_s
            if gpus == 8 and op in ("reduce-scatter", "all-gather"):  # in one domain NCCL's measured LL ring line
                # sets the latency, not the alpha-beta line's 3 us a step (`network.nvlink_latency`, hK60)
                lines = nvlink_latency.lines(Cluster.resolve(SYSTEM).for_gpus(gpus).fabric)
                assert lines is not None
                floor = lines[0][0] + (gpus - 1) * lines[0][1]
            assert r.priced_time_s >= floor * (1.0 - 1e-12)
            if r.priced_efficiency is None:  # NCCL's tree across domains: its own time, no table (hT80)
                assert op == "all-reduce" and "double binary tree" in r.priced_basis
            else:
                assert 0.0 < r.priced_efficiency <= 1.0


def _simai(column: int, size: int) -> float:
    """The SimAI NIC table's entry at `size` in node column `column` over the column's largest message (16 GiB),
    read from the CSV itself: the efficiency the tables give, by hand."""
    return held_cell("simai_nic_ratio.csv", column, size)  # as held since session 77 (`simai_held_cells`)


def test_the_efficiency_is_the_tables_entry_at_the_groups_node_count() -> None:
    """16 MiB (the tables' first row) over 8 nodes: 0.13 / 0.96 of the 8-node column; 1,024 ranks on 1,024 nodes
    read the 128-node column (0.0087 / 0.919; 1,024 ranks / 8, hT87) per ring step: its shortfall per step at the
    table node's 8 NICs paid at one NIC's busbw, each of its steps a network step (session 51, `simai_nccl_tables`:
    8 x 14 / (14 + 7 x 3.4) mean steps), 1 / (1 + (1 / e - 1) / 8 x 2.963), said in the basis."""
    eight = _answer("reduce-scatter", 64, 2.0**24)
    assert eight.priced_efficiency == pytest.approx(_simai(4, 2**24), rel=1e-12)
    assert "at 64 ranks / 8 = 8 nodes," in eight.priced_basis and "last column" not in eight.priced_basis
    spread = _answer("reduce-scatter", 1024, 2.0**24, "spread")
    assert spread.stride == 16
    net_step = 8 * 14.0 / (14.0 + 7 * 3.4)
    assert spread.priced_efficiency == pytest.approx(
        1.0 / (1.0 + (1.0 / _simai(8, 2**24) - 1.0) / 8.0 * net_step), rel=1e-12)
    assert "each at its link" in spread.priced_basis
    assert "at 1,024 ranks / 8 = 128 nodes," in spread.priced_basis and "1,023 steps" in spread.priced_basis
    # a time bound by bandwidth / efficiency: the ring's bandwidth term over 0.025 is ~5x the alpha-beta ring's
    assert spread.priced_time_s / spread.alpha_beta_time_s > 1.5


def test_at_the_tables_largest_message_the_two_agree_across_nodes() -> None:
    """At 16 GiB the tables' efficiency is 1 (normalised there): the sized ring is the alpha-beta ring but for
    NCCL's network step latency (4 us) flooring each of its 63 steps' hop latency, the only other difference."""
    r = _answer("reduce-scatter", 64, 2.0**34)
    assert r.algorithm == "ring" and r.priced_efficiency == 1.0
    assert 0.0 < r.priced_time_s - r.alpha_beta_time_s <= 63 * NCCL_NET_STEP_LATENCY_S


def test_each_group_names_the_curve_it_reads() -> None:
    inside = _answer("all-reduce", 8, 2.0**24)
    assert "aiconfigurator_h100_all_reduce.csv" in inside.priced_basis
    assert inside.priced_time_s / inside.alpha_beta_time_s == pytest.approx(1.40, abs=0.01)  # hC70's 0.71x, inverted
    assert "aiconfigurator_h100_collectives.csv" in _answer("all-gather", 8, 2.0**24).priced_basis
    assert "simai_ata_ratio.csv at 8 nodes" in _answer("all-to-all", 64, 2.0**24).priced_basis
    other = _answer("reduce-scatter", 8, 2.0**24, system="mi300x-cluster")  # no measured collectives table
    assert "simai_nvlink_ratio.csv" in other.priced_basis
    small = _answer("all-reduce", 8, 2.0**20)  # under vLLM's 8 MiB buffer: serving's custom kernels named
    assert "custom_all_reduce_time" in small.priced_basis


def test_the_flow_model_reports_the_same_priced_time() -> None:
    analytical = _answer("all-reduce", 16, 2.0**26)
    flow = _answer("all-reduce", 16, 2.0**26, sim="flow")
    assert flow.priced_time_s == analytical.priced_time_s and flow.priced_basis == analytical.priced_basis
    assert flow.time_s != analytical.time_s  # the flow model's own time beside it
    assert flow.analytical_time_s == flow.alpha_beta_time_s == analytical.alpha_beta_time_s  # the same line


def test_the_terminal_says_which_time_train_uses(capsys: pytest.CaptureFixture[str]) -> None:
    """hC52: the time printed is the priced one, said so, with the alpha-beta line beside it (before: the line, and
    "train and serve price it at ... (1.4x the alpha-beta line ..., which they do not use)")."""
    args = ["collective", "all-reduce", "--system", SYSTEM, "--gpus", "8", "--bytes", "16MiB"]
    answer = cli_json(capsys, args)
    assert main(args) == 0
    out = " ".join(capsys.readouterr().out.split())
    ratio = answer["alpha_beta_time_s"] / answer["time_s"]
    assert answer["time_s"] == answer["priced_time_s"] and f"time {fmt_seconds(answer['time_s'])};" in out
    assert "as train and serve price it: the measured NVLink all-reduce curve" in out
    assert "aiconfigurator_h100_all_reduce.csv" in out
    assert f"alpha-beta line (no message-size efficiency; the flow model's line): " \
        f"{fmt_seconds(answer['alpha_beta_time_s'])}, {ratio:.3g}x the time" in out
    assert math.isfinite(ratio) and ratio < 1.0
