"""The same question asked two ways (hC70, session 49): the DP gradient all-reduce inside `train` against the
network model's collective for the same group on the same fabric, and against the `collective` command.

On Megatron-LM 2021's stack (catalog/stacks/megatron-lm-2021.yaml: local DDP all-reduces the fp16 gradients after
the whole backward, `dp_overlap_fraction: 0`, `grad_reduce_dtype: fp16`) at ZeRO 0 with PP 1, the step's
`dp_comm_exposed` is one all-reduce of every rank's gradients, 2 bytes x parameters / TP, over the DP ranks TP
apart: `network.collectives.collective_seconds` of that group, to the bit.

The `collective` command answers the same question for a group of DP GPUs spread over the system: its analytical
line is alpha-beta (no message-size efficiency; validated on 8 GiB busbw only), while train (and serve) price the
SimAI NCCL tables' efficiency at the node count the group spans (`network.collective_efficiency`). For a group of
8 nodes at 2 GB that efficiency is ~0.97: they agree within 5 %. At 128 nodes it is ~0.36 and train prices the
Llama 3 8B gradient all-reduce 2.7x the command's time (0.234 s against 0.0855 s; the same stride unsized is
0.0853 s, so the placement is not the cause). Since hT71 the command reports, beside that alpha-beta line, the
figure train prices (`priced_time_s`, `network.priced_collective`, which calls `collective_seconds`): train's
term and the command's priced figure are one number, to the bit, at 8 and at 128 nodes. hT80 (session 50): that
table is a ring's and no longer prices the tree; at 128 nodes both take the tree, 0.0855 s (train 0.234 -> 0.0855 s).
Under --sharp the two agree to the bit at 8 and 128 nodes (0.0437 s): the SHARP time is sized on both sides.

The TP all-reduces inside one node, the same stack without sequence parallelism: 4 per layer per micro-batch
(Megatron's f and g operators, two forward and two backward; Narayanan et al. SC'21 Sec. 3.1) of the micro-batch's
b x s x h bf16 activation, plus the vocab-parallel embedding's and the cross-entropy's (left out of the hand count:
measured +1.9 %). Inside the node train reads the measured NVLink all-reduce curve (AIConfigurator's H100 NCCL
table, `network.nvlink_all_reduce`), the command its alpha-beta NVLS line: 16 MiB over 8 H100 0.086 ms against
0.121 ms (0.71x; a B200 board's 16 MiB reduce-scatter 0.41x); the command's `priced_time_s` is train's figure
(hT71).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.cli.conftest import cli_json

from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.training.estimate import estimate_training

SYSTEM = "dgx-h100-superpod"
GRAD_BYTES = 2.0  # fp16 gradients (the stack's grad_reduce_dtype)


def _dp_term(gpus: int, tp: int, sharp: bool = False) -> tuple[float, float, int]:
    """(train's exposed DP seconds, the all-reduce's bytes per rank, the DP degree) of Llama 3 8B on `gpus`."""
    dp = gpus // tp
    result = estimate_training("llama3-8b", SYSTEM, gpus, tp=tp, pp=1, seq_len=2048, global_batch=2 * dp, zero=0,
                               stack="megatron-lm-2021", recompute="full", sharp=sharp)
    assert (result.config.dp, result.config.zero, result.config.pp) == (dp, 0, 1)
    return result.breakdown_s.dp_comm_exposed, GRAD_BYTES * result.parameters / tp, dp


@pytest.mark.parametrize(("gpus", "tp"), [(64, 8), (64, 1), (16, 8), (1024, 8)])
def test_trains_gradient_all_reduce_is_the_network_models(gpus: int, tp: int) -> None:
    exposed, size, dp = _dp_term(gpus, tp)
    fabric = Cluster.resolve(SYSTEM).fabric
    assert exposed > 0.0
    assert exposed == collective_seconds(fabric, "all_reduce", size, float(dp), float(tp))  # DP ranks TP apart


def _answer(dp: int, size: float, capsys: pytest.CaptureFixture[str], sharp: bool = False) -> dict[str, Any]:
    assert size == int(size)  # whole bytes: the command reads the same message
    answer = cli_json(capsys, ["collective", "all-reduce", "--system", SYSTEM, "--gpus", str(dp), "--placement",
                               "spread", "--bytes", str(int(size)), *(["--sharp"] if sharp else [])])
    assert answer["bottleneck_tier"] != "scale-up"  # one GPU per node, as train's TP 8 group
    assert (answer["algorithm"] == "sharp") == sharp
    return answer


def _command(dp: int, size: float, capsys: pytest.CaptureFixture[str], sharp: bool = False) -> float:
    return float(_answer(dp, size, capsys, sharp)["time_s"])


@pytest.mark.parametrize("gpus", [64, 1024])
def test_with_sharp_the_command_and_train_agree(gpus: int, capsys: pytest.CaptureFixture[str]) -> None:
    """Under --sharp both price the switches' reduction with one sized formula (`network.sharp.sharp_time`, which
    the command compares as train does: `collective_algorithms.choose_algorithm`): one answer at 8 and at 128 nodes."""
    exposed, size, dp = _dp_term(gpus, 8, sharp=True)
    assert exposed / _command(dp, size, capsys, sharp=True) == pytest.approx(1.0, rel=1e-12)


def test_the_collective_command_agrees_on_a_few_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    exposed, size, dp = _dp_term(64, 8)  # 8 nodes, 2 GB: the tables' efficiency ~0.97
    assert exposed / _command(dp, size, capsys) == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("gpus", [64, 1024])
def test_the_collective_commands_priced_time_is_trains_term(gpus: int, capsys: pytest.CaptureFixture[str]) -> None:
    """hT71: the command's `priced_time_s` is train's exposed gradient all-reduce, to the bit, at 8 nodes; at 128
    nodes (hT80) both take NCCL's tree at its alpha-beta time, the command's for its own placement."""
    exposed, size, dp = _dp_term(gpus, 8)
    answer = _answer(dp, size, capsys)
    if gpus == 64:
        assert answer["priced_time_s"] == exposed
        # the table read per ring step (hT87): its column at the ring's ranks / 8 (under 16 ranks its first)
        assert "simai_nic_ratio.csv" in answer["priced_basis"] and f"at {dp} ranks / 8" in answer["priced_basis"]
    else:
        # hT80 (session 50): the 128-node figure was the SimAI NIC table's, a ring's (latency linear in the ranks),
        # read for NCCL's tree too: 0.234 s. The tree now keeps its own alpha-beta time, which depends on where the
        # group sits: the command spreads 128 GPUs 128 apart over 16,384 (spine hops), train's DP ranks are 8 apart
        # in a 1,024-GPU job: 0.08550 s against 0.08548 s, the 20 us of the longer tree path's hops.
        assert answer["priced_time_s"] == pytest.approx(exposed, rel=1e-3) and answer["priced_time_s"] != exposed
        assert answer["priced_time_s"] == answer["time_s"] and answer["priced_efficiency"] is None
        assert "double binary tree" in answer["priced_basis"]


@pytest.mark.parametrize("gpus", [64, 1024])
def test_with_sharp_the_priced_time_is_trains_term(gpus: int, capsys: pytest.CaptureFixture[str]) -> None:
    exposed, size, dp = _dp_term(gpus, 8, sharp=True)
    answer = _answer(dp, size, capsys, sharp=True)
    assert answer["priced_time_s"] == exposed == answer["time_s"]
    assert answer["priced_efficiency"] is None and "SHARP" in answer["priced_basis"]


def _tp_term(seq_len: int) -> tuple[float, float, float]:
    """(train's TP seconds, the hand count's, one all-reduce's bytes) of Llama 3 8B at TP 8 on one H100 node."""
    result = estimate_training("llama3-8b", SYSTEM, 8, tp=8, pp=1, seq_len=seq_len, global_batch=8, zero=0,
                               stack="megatron-lm-2021", recompute="none", sequence_parallel=False)
    config = result.config
    assert not config.sequence_parallel and config.micro_batch == 1
    size = 2.0 * config.micro_batch * seq_len * 4096  # bf16, hidden 4096
    micro_batches = config.global_batch // (config.dp * config.micro_batch)
    one = collective_seconds(Cluster.resolve(SYSTEM).fabric, "all_reduce", size, 8.0, 1.0)
    return result.breakdown_s.tp_comm, 4 * 32 * micro_batches * one, size


@pytest.mark.parametrize("seq_len", [2048, 4096])
def test_trains_tp_all_reduces_are_the_network_models(seq_len: int) -> None:
    tp_comm, hand, _ = _tp_term(seq_len)
    assert 1.0 <= tp_comm / hand <= 1.03  # the embedding's and the loss's all-reduces on top (measured +1.9 %)


@pytest.mark.parametrize("seq_len", [2048, 4096])
def test_the_collective_commands_priced_time_inside_a_node(seq_len: int, capsys: pytest.CaptureFixture[str]) -> None:
    """hT71: inside the node the command's `priced_time_s` is the all-reduce train's TP term is made of (the
    measured NVLink curve, named in `priced_basis`), to the bit, and since hC52 its `time_s` too; its
    `alpha_beta_time_s` is the alpha-beta line, 0.71x of it at 16 MiB."""
    tp_comm, hand, size = _tp_term(seq_len)
    answer = cli_json(capsys, ["collective", "all-reduce", "--system", SYSTEM, "--gpus", "8", "--bytes",
                               str(int(size))])
    one = collective_seconds(Cluster.resolve(SYSTEM).fabric, "all_reduce", size, 8.0, 1.0)
    assert answer["priced_time_s"] == one
    assert 1.0 <= tp_comm / (hand / one * answer["priced_time_s"]) <= 1.03  # train's term, the hand count's sum
    assert "aiconfigurator_h100_all_reduce.csv" in answer["priced_basis"]
    assert answer["time_s"] == answer["priced_time_s"]  # the answer is train's figure (hC52)
    assert answer["alpha_beta_time_s"] < answer["priced_time_s"]  # the alpha-beta line, below the measured curve
