"""Activation CPU offloading in training: Megatron-Core's `cpu_offloading` on Transformer Engine 2.14.

What is modelled (the stack's `cpu_offload_layers` N, Megatron-Core `cpu_offloading_num_layers`):

* Where it runs. Megatron-Core 0.16.1 refuses CPU offloading with pipeline parallelism, with activation recompute
  and with N >= the model's layers (megatron/core/transformer/transformer_config.py:1137-1152), and with CUDA
  graphs (:1722-1723). So a plan offloads only with PP 1 and no recompute (`offloaded_layers`; any other plan of a
  search runs without offload, as Megatron-Core would not start it), `check_offload` rejects a single plan that
  asks otherwise, and `with_offload` turns a single estimate's CUDA graphs off. The transformer block hands N
  and the block's layer count to TE's `get_cpu_offload_context` (transformer_block.py:303-312).
* Memory. TE 2.14's default synchronizer (pytorch/cpu_offload.py:574-652, the v2 path; v1 only with
  NVTE_CPU_OFFLOAD_V1) offloads layers 0 .. N-1 and frees each one's saved tensors once its copy is done, so that
  "peak memory usage of saving activations is (num_layers - num_offloaded_layers) * T" (:606-613, :747-749):
  the stage keeps L - N layers' saved activations per micro-batch in flight (`training.activation_memory`).
  Tensors under 256 K elements stay (:452-457): the model offloads every stored byte of a layer (the small ones
  are a few MB of a GB-sized layer).
* Time. Copies run on one side stream (`offload_stream`, :507), one after another:
  - forward: layer i's device-to-host copy is queued when layer i+1 starts (`fwd_step`, :626-636) and the compute
    stream waits for it before layer L - N + i starts (`release_activation_forward_gpu_memory`, :312-327,
    `finish_offload_map`, :614-618);
  - backward: layer i's host-to-device copy is queued when the backward of layer L - 1 - N + i starts (`bwd_step`,
    :638-645, `start_reload_map` :619-621), after the compute stream's queued work (`wait_stream`, :339-346), and
    layer i's backward waits for it (`pop_tensor` waits per tensor, :400-440; the model waits for the whole
    layer: an upper bound).
  `offload_exposed_s` runs this schedule layer by layer (vectorised over plans) and returns the compute stream's
  wait per micro-batch: zero where each copy finishes inside the compute it overlaps, else the lateness.
  The copy rate is the accelerator's host link per direction (`host_link_bandwidth_bytes_per_s`: GB200
  NVLink-C2C 225 GB/s per GPU, PCIe Gen5 x16 64 GB/s on HGX). ASSUMPTION: the copy engine reaches the link's
  rate (no efficiency: none measured for pinned copies over C2C at hand). Host memory shared by the GPUs of one
  CPU is a cap (`host_memory_bytes_per_s` / `gpus_per_host`) that no catalog field carries yet: a GB200 NVL72's
  Grace gives 18.4 TB/s / 36 = 512 GB/s (NVIDIA GB200 NVL72 specifications) to two GPUs, 2 x 225 GB/s below
  it, so it does not bind there. Not priced: the copies' HBM traffic beside the compute (225 GB/s of 8 TB/s)
  and the host issue of the copies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.stacks import Stack
from infraplan.errors import InputError
from infraplan.scalar_path import is_plain, pick, smaller
from infraplan.training.cuda_graph_rule import graphed_at
from infraplan.training.enums import Recompute
from infraplan.training.plan import PlanArrays

_NONE = int(Recompute.NONE)

__all__ = ["FRAMEWORK_OFFLOAD", "check_offload", "offload_exposed_s", "offload_rate_bytes_per_s", "offloaded_layers",
           "with_offload", "with_offload_wait"]


def offloaded_layers(profile: Stack, plan: PlanArrays, layers: Any) -> Any:
    """Layers of a stage of `layers` layers whose saved activations leave HBM: the stack's N (at most
    `layers` - 1, Megatron-Core's bound) on plans Megatron-Core offloads (PP 1, no recompute), else 0."""
    n = profile.cpu_offload_layers
    if not n:
        return 0.0
    runs = (plan.pp == 1) & (plan.recompute == _NONE)
    return pick(runs, smaller(float(n), layers - 1.0), 0.0)


def check_offload(offload_layers: int, num_layers: int, pp: int, recompute: str) -> str | None:
    """Why Megatron-Core 0.16.1 would refuse this offload (transformer_config.py:1137-1152, :1722-1723), or None."""
    if offload_layers < 0 or offload_layers >= num_layers:
        return f"--offload-layers must be in 0..{num_layers - 1} (the model has {num_layers} layers)"
    if offload_layers and pp > 1:
        return "--offload-layers needs --pp 1 (Megatron-Core: no CPU offloading with pipeline parallelism)"
    if offload_layers and recompute != "none":
        return "--offload-layers needs --recompute none (Megatron-Core: no CPU offloading with recompute)"
    return None


def offload_rate_bytes_per_s(host_link_bytes_per_s: float, host_memory_bytes_per_s: float = 0.0,
                             gpus_per_host: int = 1) -> float:
    """Copy rate per GPU and direction: the host link, capped by the host memory its CPU shares among
    `gpus_per_host` GPUs (0: no cap known)."""
    if host_memory_bytes_per_s > 0.0:
        return min(host_link_bytes_per_s, host_memory_bytes_per_s / max(gpus_per_host, 1))
    return host_link_bytes_per_s


def offload_exposed_s(layers: int, offloaded: int, bytes_per_layer: Any, rate_bytes_per_s: float,
                      fwd_layer_s: Any, bwd_layer_s: Any) -> Any:
    """Compute-stream wait per micro-batch (forward + backward, seconds) of TE 2.14's default offload schedule:
    `layers` L in the block, `offloaded` N of them, each layer's saved bytes copied at `rate_bytes_per_s` on one
    side stream beside `fwd_layer_s` / `bwd_layer_s` of compute per layer (module docstring). Element-wise over
    arrays of plans, or Python floats for one plan."""
    if offloaded <= 0 or rate_bytes_per_s <= 0.0:
        return 0.0 * fwd_layer_s
    copy = bytes_per_layer / rate_bytes_per_s
    n, most = offloaded, np.maximum
    # forward: compute clock t, side stream free at s, the compute's waits summed; layer i's copy is queued as
    # layer i + 1 starts and layer L - N + i waits for it
    t = s = waits = 0.0 * fwd_layer_s
    done: list[Any] = []
    for layer in range(layers):
        if 1 <= layer <= n:
            s = most(s, t) + copy
            done.append(s)
        i = layer - (layers - n)
        if 0 <= i < n:
            wait = most(done[i] - t, 0.0)
            t, waits = t + wait, waits + wait
        t = t + fwd_layer_s
    # backward, layers L-1 .. 0: layer l's start queues the reload of layer l - (L - 1 - N) after the compute
    # queued so far, and layer l < N waits for its own reload
    t = s = 0.0 * bwd_layer_s
    ready: dict[int, Any] = {}
    for layer in range(layers - 1, -1, -1):
        i = layer - (layers - 1 - n)
        if 0 <= i < n:
            s = most(s, t) + copy
            ready[i] = s
        if layer < n:
            wait = most(ready[layer] - t, 0.0)
            t, waits = t + wait, waits + wait
        t = t + bwd_layer_s
    total = waits
    return float(total) if is_plain(total) or np.ndim(total) == 0 else total


def with_offload_wait(plan: PlanArrays, profile: Stack, num_layers: int, lt: dict[str, Any],
                      bytes_per_token_layer: Any, host_link_bytes_per_s: float, out: dict[str, Any]) -> dict[str, Any]:
    """`step_time`'s components with the offload copies' waits (`offload_exposed_s` per micro-batch, times the
    micro-batches) added to `other` and the step, on the plans that offload (`offloaded_layers`); `lt` the
    per-layer times (`layer_terms.per_layer_terms`), `bytes_per_token_layer` a layer's saved bytes per token."""
    row = plan.one_row if plan.is_one else plan
    n = offloaded_layers(profile, row, float(num_layers))
    if not np.any(n):
        return out
    fwd = sum(lt[k] for k in ("compute_fwd", "other_fwd", "tp_fwd", "cp_fwd", "ep_fwd"))
    bwd = sum(lt[k] for k in ("compute_bwd", "other_bwd", "tp_bwd", "cp_bwd", "ep_bwd"))
    tokens = row.micro_batch * row.seq_len / row.cp
    wait = offload_exposed_s(num_layers, int(np.max(n)), tokens * bytes_per_token_layer,
                             offload_rate_bytes_per_s(host_link_bytes_per_s), fwd, bwd)
    step = pick(n > 0, row.micro_batches * wait, 0.0)
    if plan.is_one:
        step = float(np.ravel(step)[0])
    return out | {"other": out["other"] + step, "step_time_s": out["step_time_s"] + step}


# what each non-Megatron stack class ships for activation offload, where read (`with_offload`'s notes)
FRAMEWORK_OFFLOAD = {
    "torchtitan": "torchtitan 0.3.0's trainer offloads no layer's activations: `training.enable_cpu_offload` is "
                  "FSDP2's parameter, gradient and optimizer-state offload (config/configs.py:61-64), activation "
                  "offload only the graph_trainer experiment's `sac_and_offload` policy "
                  "(experiments/graph_trainer/configs.py:97-107)",
}


def with_offload(shape: Any, profile: Stack, offload_layers: int, pp: int, recompute: str,
                 ep: int = 1) -> tuple[Stack, list[str]]:
    """A single estimate's stack offloading `offload_layers` (its input checked by `check_offload`: InputError,
    exit 2), with CUDA graphs off, said in the notes where the stack graphs this plan (`cuda_graph_rule.graphed_at`
    at `pp`, `ep`): Megatron-Core refuses both (transformer_config.py:1722-1723). A stack of another framework is
    priced on Megatron-Core's offload too, and its note says so and that its own rule is not known."""
    problem = check_offload(offload_layers, shape.num_layers, pp, recompute)
    if problem:
        raise InputError(problem)
    notes = [f"CPU activation offload of {offload_layers} of {shape.num_layers} layers over the host link "
             "(Transformer Engine's schedule: `training.activation_offload`)"]
    megatron = profile.stack_class == "megatron"
    if not megatron:
        shipped = FRAMEWORK_OFFLOAD.get(profile.stack_class, f"{profile.stack_class}'s activation offload not read")
        notes.append(f"stack {profile.name} ({profile.stack_class}): {shipped}; priced as Megatron-Core's "
                     "cpu_offloading on Transformer Engine, with its rules (PP 1, no recompute, no CUDA graphs)")
    if graphed_at(profile, pp, ep):
        notes.append(f"CUDA graphs off: Megatron-Core refuses them with CPU offloading (transformer_config.py:"
                     f"1722-1723; stack {profile.name} graphs this plan)" if megatron else
                     f"CUDA graphs off for this plan (stack {profile.name} graphs it): Megatron-Core's rule, "
                     f"whether {profile.stack_class} could replay its graphs with activation offload is not known")
    return profile.model_copy(update={"cpu_offload_layers": offload_layers, "cuda_graphs": False}), notes
