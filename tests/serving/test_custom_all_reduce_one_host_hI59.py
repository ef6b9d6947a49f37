"""vLLM's and SGLang's custom all-reduce needs every TP rank on one host: a group spanning hosts pays NCCL (hI59).

vllm 0.12.0 distributed/device_communicators/custom_all_reduce.py:90-96 (`in_the_same_node_as(group)`, a POSIX
shared-memory test, parallel_state.py:1608-1614: false for a rank -> "Custom allreduce is disabled because this
process group spans across nodes"); SGLang's copy the same (0.5.6.post2 / 0.5.8.post1 :83-87, 0.5.9 :94-98). The
stacks carry it (`custom_all_reduce_one_host`); TensorRT-LLM's does not need one host (its MNNVL all-reduce, measured
at TP 8 / 16 over GB300 NVL trays in AIConfigurator 0.12.0's gb300 trtllm 1.3.0rc20 table). On GB200 NVL72 a host is
a compute tray of 4 GPUs (`node.accelerators_per_node`, `Fabric.host_accelerators`) inside the 72-GPU domain, so a
vLLM / SGLang TP 8 engine runs NCCL's all-reduce over NVLink: before, the model priced the one-shot kernel (a Llama 3
70B decode token's 16 KiB at 3.16 µs where NCCL takes 18.0 µs). On DGX B200 (hosts of 8) nothing changes.
By hand: a one-token decode step, ON - OFF = 80 layers x 2 all-reduces x (NCCL - custom).
Checked failing before the change (`git stash push -- src`): ImportError (`nccl_inside_note`); with the rule's toggle
`CUSTOM_ALL_REDUCE_ONE_HOST` off both ways the TP 8 difference is 0 where 80 x 2 x 14.9 µs = 2.37 ms is expected.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.catalog import load_accelerator, load_system
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.cluster import Cluster
from infraplan.network import collective_algorithms
from infraplan.network.collective_algorithms import custom_all_reduce_time
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import Fabric, collective_time
from infraplan.serving.engines import load_engine
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost
from infraplan.serving.serve_inputs import nccl_inside_note

GB200 = load_accelerator("gb200")
NVL72 = Fabric.from_system(load_system("gb200-nvl72"), GB200)
TOKEN = 8192 * 2.0  # Llama 3 70B's hidden state in bf16: the decode all-reduce of one token
VLLM = Path(__file__).parents[2] / "src/infraplan/catalog/stacks/vllm-0.x.yaml"


def _one_token_s(stack: str, engine: str, tp: int, fabric: Fabric = NVL72) -> float:
    config, _ = read_entry("models", "llama3-70b")
    dep = Deployment(tp=tp, engine=engine, stack=stack, max_batch=8, token_budget=64)
    return float(build_iteration_cost(shape_from_hf_config(config, "llama3-70b"), GB200, fabric, dep).body_s[1])


def test_the_host_and_the_engine_facts() -> None:
    assert NVL72.host_accelerators == 4 and NVL72.scale_up_domain == 72
    assert Fabric.from_system(load_system("dgx-b200"), load_accelerator("b200")).host_accelerators == 8
    for stack in ("vllm-0.x", "sglang-0.x"):
        engine = load_engine(stack)
        assert engine.custom_all_reduce_one_host
        assert [engine.custom_all_reduce_at(n, 4) for n in (2, 4, 6, 8)] == [True, True, False, False]
        assert engine.custom_all_reduce_at(8, 8) and engine.custom_all_reduce_at(8)  # 0: no host known
    trtllm = load_engine("trtllm-0.x")
    assert not trtllm.custom_all_reduce_one_host and trtllm.custom_all_reduce_at(8, 4)


def test_a_user_yaml_without_the_field_takes_its_familys(tmp_path: Path) -> None:
    data = yaml.safe_load(VLLM.read_text())
    data["name"] = "vllm-user"
    del data["serving"]["custom_all_reduce_one_host"], data["serving"]["custom_all_reduce_one_host_source"]
    path = tmp_path / "vllm-user.yaml"
    path.write_text(yaml.safe_dump(data))
    assert not load_engine(str(path)).custom_all_reduce_at(8, 4)
    data["serving"]["custom_all_reduce_one_host"] = False  # a user's own kernel that crosses hosts
    path.write_text(yaml.safe_dump(data))
    assert load_engine(str(path)).custom_all_reduce_at(8, 4)


@pytest.mark.parametrize("stack,engine", [("sglang-0.x", "sglang"), ("vllm-0.x", "vllm")])
def test_tp8_on_nvl72_pays_nccl(monkeypatch: pytest.MonkeyPatch, stack: str, engine: str) -> None:
    nccl = float(collective_time(NVL72, "all_reduce", TOKEN, 8, 1))
    custom = float(custom_all_reduce_time(NVL72, TOKEN, 8))
    assert nccl > 5.0 * custom  # 18.0 vs 3.16 µs
    on = _one_token_s(stack, engine, 8)
    monkeypatch.setattr(collective_algorithms, "CUSTOM_ALL_REDUCE_ONE_HOST", False)  # the domain stands for the host
    off = _one_token_s(stack, engine, 8)
    assert on - off == pytest.approx(80 * 2 * (nccl - custom), rel=1e-9)


def test_one_host_groups_and_tensorrt_llm_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    b200 = Fabric.from_system(load_system("dgx-b200"), load_accelerator("b200"))
    cases = [("vllm-0.x", "vllm", 4, NVL72), ("sglang-0.x", "sglang", 4, NVL72), ("trtllm-0.x", "trtllm", 8, NVL72),
             ("vllm-0.x", "vllm", 8, b200)]
    on = [_one_token_s(*case) for case in cases]
    monkeypatch.setattr(collective_algorithms, "CUSTOM_ALL_REDUCE_ONE_HOST", False)
    assert on == [_one_token_s(*case) for case in cases]


def test_serve_says_which_kernel_runs() -> None:
    cluster = Cluster.resolve("gb200-nvl72").for_gpus(16)
    note = nccl_inside_note(8, cluster, TOKEN, load_engine("vllm-0.x"))
    assert note is not None and note.startswith("TP 8 spans 2 hosts of 4 GPUs and vllm-0.x's custom all-reduce")
    assert f"{float(collective_time(cluster.fabric, 'all_reduce', TOKEN, 8, 1)) * 1e6:.1f} us" in note
    assert "is not a size" in (nccl_inside_note(16, cluster, TOKEN, load_engine("sglang-0.x")) or "")
    assert nccl_inside_note(4, cluster, TOKEN, load_engine("vllm-0.x")) is None  # one host: the custom kernel
    assert nccl_inside_note(8, cluster, TOKEN, load_engine("trtllm-0.x")) is None  # MNNVL: the custom kernel
    h200 = Cluster.resolve("hgx-h200").for_gpus(8)
    assert nccl_inside_note(8, h200, TOKEN, load_engine("sglang-0.x")) is None  # a host of 8


def test_a_group_not_a_multiple_of_the_host_counts_its_hosts_up() -> None:
    """hN59's mutants: TP 6 on GB200 NVL72's hosts of 4 spans 2 hosts (ranks 0-5: hosts 0 and 1), not 6 // 4 = 1,
    in serve's note and in `collective`'s basis (TP 8, a multiple, read the same either way)."""
    cluster = Cluster.resolve("gb200-nvl72").for_gpus(12)
    note = nccl_inside_note(6, cluster, TOKEN, load_engine("vllm-0.x"))
    assert note is not None and note.startswith("TP 6 spans 2 hosts of 4 GPUs and vllm-0.x's custom all-reduce")
    r = estimate_collective("all-reduce", Cluster.resolve("gb200-nvl72").for_gpus(6), 6, TOKEN)
    assert "theirs with every rank on one host, 6 ranks span 2 of 4, NCCL's time above at 6" in r.priced_basis
