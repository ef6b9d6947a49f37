"""CPU activation offloading (`training.activation_offload`): Transformer Engine 2.14's default schedule, the
saved activations that leave HBM, Megatron-Core's conditions, and the estimate / CLI wiring."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.cli.main import main
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training.activation_offload import (
    check_offload,
    offload_exposed_s,
    offload_rate_bytes_per_s,
    offloaded_layers,
)
from infraplan.training.enums import Dtype, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import step_time

H010 = dict(tp=1, pp=1, cp=1, vpp=1, seq_len=8192, global_batch=256, micro_batch=2, zero=3, dtype="fp8")


def _h010(system: str = "gb200-nvl72", **kw: object):  # type: ignore[no-untyped-def]
    stack = resolve_stack("nemo-26.04", "training").model_copy(update={"cuda_graphs": False})
    return estimate_training("llama3-70b", system, 64, **(H010 | kw), stack=stack)  # type: ignore[arg-type]


def test_copies_inside_the_compute_are_hidden_and_slow_ones_exposed() -> None:
    # a copy no longer than a layer's forward / backward never makes the compute wait (TE waits for layer i's
    # copy only at layer L - N + i, and reloads N - 1 - j layers ahead)
    assert offload_exposed_s(80, 40, 1.0e9, 100e9, 0.010, 0.020) == 0.0
    assert offload_exposed_s(80, 0, 9.0e9, 1e9, 0.010, 0.020) == 0.0
    # slower copies: the side stream runs back to back from the end of layer 0, so the forward waits
    # F + N C - (L - 1) F where that is positive, and the backward likewise with B
    layers, n, f, b, copy = 10, 5, 1.0, 2.0, 3.0
    expected = max(f + n * copy - (layers - 1) * f, 0.0) + max(b + n * copy - (layers - 1) * b, 0.0)
    assert offload_exposed_s(layers, n, copy * 1e9, 1e9, f, b) == pytest.approx(expected)
    copy = 5.0
    expected = max(f + n * copy - (layers - 1) * f, 0.0) + max(b + n * copy - (layers - 1) * b, 0.0)
    assert offload_exposed_s(layers, n, copy * 1e9, 1e9, f, b) == pytest.approx(expected)
    # offloading all but one layer: each copy is waited for one layer after it starts
    assert offload_exposed_s(10, 9, 3e9, 1e9, 1.0, 1.0) > offload_exposed_s(10, 5, 3e9, 1e9, 1.0, 1.0)


def test_arrays_give_the_floats() -> None:
    f, b = np.array([0.010, 0.002]), np.array([0.020, 0.003])
    out = offload_exposed_s(80, 40, np.array([3.6e9, 3.6e9]), 64e9, f, b)
    assert out.shape == (2,)
    for k in range(2):
        assert out[k] == pytest.approx(offload_exposed_s(80, 40, 3.6e9, 64e9, float(f[k]), float(b[k])))


def test_host_memory_caps_the_link_when_shared() -> None:
    assert offload_rate_bytes_per_s(225e9) == 225e9
    assert offload_rate_bytes_per_s(225e9, 512e9, 2) == 225e9  # a GB200 Grace feeds two GPUs
    assert offload_rate_bytes_per_s(225e9, 300e9, 2) == 150e9


def test_megatron_core_conditions() -> None:
    assert check_offload(40, 80, 1, "none") is None
    assert "0..79" in (check_offload(80, 80, 1, "none") or "")
    assert "--pp 1" in (check_offload(40, 80, 2, "none") or "")
    assert "--recompute none" in (check_offload(40, 80, 1, "full") or "")
    assert "--recompute none" in (check_offload(40, 80, 1, "auto") or "")
    with pytest.raises(InputError):
        _h010(recompute="selective", offload_layers=40)
    # a search's plans: only PP 1 without recompute offload
    stack = resolve_stack("nemo-26.04", "training").model_copy(update={"cpu_offload_layers": 40})
    plans = PlanArrays.build(tp=1, pp=np.array([1, 2, 1]), dp=8, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=64,
                             seq_len=4096, recompute=np.array([0, 0, int(Recompute.FULL)]), zero=1,
                             dtype=int(Dtype.BF16))
    assert list(offloaded_layers(stack, plans, np.array([80.0, 40.0, 80.0]))) == [40.0, 0.0, 0.0]


def test_offloaded_layers_leave_hbm_and_hide_on_nvlink_c2c() -> None:
    plain = _h010(recompute="none")
    offloaded = _h010(recompute="none", offload_layers=40)
    assert not plain.fits and offloaded.fits and offloaded.config.offload_layers == 40
    # 40 of the 80 layers' saved activations leave; the logits and one layer's working set stay
    act, act0 = offloaded.memory_breakdown_bytes.activations, plain.memory_breakdown_bytes.activations
    shape = load_model("llama3-70b")
    assert act0 - act == pytest.approx(40 / shape.num_layers * (act0 - 2 * 8192 * shape.vocab_size * 4.0), rel=0.02)
    # 225 GB/s per direction: every copy inside the compute, the step as without offload
    assert offloaded.step_time_s == pytest.approx(plain.step_time_s, rel=1e-9)
    assert any("offload of 40 of 80" in n for n in offloaded.notes)


def test_pcie_host_link_exposes_the_copies() -> None:
    # the same plan over PCIe Gen5 (64 GB/s): each ~3.6 GB copy (~57 ms) outlasts the layer it overlaps
    plain = _h010("dgx-b200", recompute="none")
    offloaded = _h010("dgx-b200", recompute="none", offload_layers=40)
    assert offloaded.step_time_s > plain.step_time_s + 1.0
    assert offloaded.breakdown_s.other > plain.breakdown_s.other


def test_grid_path_matches_one_plan() -> None:
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("dgx-b200").for_gpus(8)
    stack = resolve_stack("nemo-26.04", "training").model_copy(update={"cpu_offload_layers": 16,
                                                                       "cuda_graphs": False})
    one = PlanArrays.one_plan(1, 1, 8, 1, 1, None, 1, 2, 64, 8192, 0, 1, int(Dtype.BF16), 0, 0, 1)
    grid = PlanArrays.build(tp=1, pp=np.array([1, 2]), dp=np.array([8, 4]), cp=1, ep=1, vpp=1, micro_batch=2,
                            global_batch=64, seq_len=8192, recompute=0, zero=1, dtype=int(Dtype.BF16))
    a, g = step_time(shape, cluster, one, stack), step_time(shape, cluster, grid, stack)
    assert g["step_time_s"][0] == pytest.approx(a["step_time_s"][0], rel=1e-9)
    off = resolve_stack("nemo-26.04", "training").model_copy(update={"cuda_graphs": False})
    assert a["step_time_s"][0] > step_time(shape, cluster, one, off)["step_time_s"][0]  # exposed over PCIe
    assert g["step_time_s"][1] == pytest.approx(step_time(shape, cluster, grid, off)["step_time_s"][1])  # PP 2


def test_cli_offload_layers(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["train", "llama3-70b", "--system", "gb200-nvl72", "--gpus", "64", "--seq-len", "8192",
            "--global-batch", "256", "--micro-batch", "2", "--zero", "3", "--dtype", "fp8", "--stack", "nemo-26.04"]
    assert main([*base, "--offload-layers", "40", "--json"]) == 0
    assert '"offload_layers": 40' in capsys.readouterr().out
    for bad, needle in ((["--offload-layers", "80"], "0..79"), (["--offload-layers", "-1"], "--offload-layers"),
                        (["--offload-layers", "40", "--pp", "2"], "--pp 1"),
                        (["--offload-layers", "40", "--recompute", "full"], "--recompute none")):
        assert main([*base, *bad]) == 2, bad
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1


def test_search_under_an_offloading_stack_says_so_and_its_train_command_agrees(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import shlex

    from infraplan.training import plan_grid
    from infraplan.training.search import search_plans

    monkeypatch.setattr(plan_grid, "GUARD_TIE_SHARE", 0.0)  # (the guard's tie band off: the top 80 by time)

    stack = resolve_stack("nemo-26.04", "training").model_copy(update={"cpu_offload_layers": 16, "cuda_graphs": False})
    # top 80 (was 40): since hH58's SP weight-gradient re-gather (nemo-26.04's TP > 1 GEMMs), the best offloading plan
    # (TP4, 3.19 s) ranks 41st, 0.8 % behind the best (TP2 PP2, 3.17 s)
    found = search_plans("llama3-8b", "gb200-nvl72", 8, seq_len=8192, global_batch=64, dtype="bf16", top=80,
                         stack=stack)
    offloading = [r for r in found.top if r.config.offload_layers]
    assert offloading and all(r.config.pp == 1 and r.config.recompute == "none" for r in offloading)
    assert all(r.config.offload_layers == 0 for r in found.top if r.config.pp > 1 or r.config.recompute != "none")
    row = offloading[0]
    assert "--offload-layers 16" in row.train_command
    # the row's command under the stack's name (nemo-26.04, graphs on: --offload-layers turns them off) gives its step
    assert main([*shlex.split(row.train_command)[1:], "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["step_time_s"] == pytest.approx(row.step_time_s, rel=1e-6)
    assert again["config"]["offload_layers"] == 16
