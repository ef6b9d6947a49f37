"""DeepSpeed PipelineEngine's per-micro-batch extras priced with the model's own functions (hK, session 53).

Read in the DeepSpeed 0.5.10 PyPI sdist (MT-NLG's era; 0.6.5 / 0.14.4 the same steps): with TP > 1 the engine sends
each boundary activation / gradient as its rank's 1 / TP slice (`is_pipe_partitioned`, pipe/engine.py:131-132) and
rebuilds it with `PartitionedTensor.full()` (runtime/utils.py:703-731: torch.zeros of the full tensor, copy_ of the
slice, all_gather over TP, clone): in the forward of every stage but the first (engine.py:614-619), and in the
backward of every stage but the last twice, its own output re-gathered for autograd and the received gradient
(:707-725); the slices are `narrow().clone()` (utils.py:692-701) and every received buffer is cloned again
(:1033) and the forward clones its inputs (:608). Megatron-LM keeps its output whole and gathers the
received slice only. DeepSpeed activation checkpointing with `partition_activations` (off by default; the model's
`Stack.partition_checkpointed_activations`) is priced by the model itself and printed here for comparison.
Run: PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s52/ds_engine_costs.py
"""

from __future__ import annotations

from infraplan.cluster.cluster import Cluster
from infraplan.hardware.kernels import KernelRates, memory_bound_seconds
from infraplan.network.collectives import collective_seconds

CLUSTER = Cluster.resolve("dgx-a100-superpod")
RATES = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
# (name, seq, micro-batch, hidden, TP, layers a stage, micro-batches, PP, model seconds a micro-batch on a stage)
RUNS = (("MT-NLG 530B, 2240 GPUs", 2048, 1, 20480, 8, 3, 240, 35, 0.169),
        ("BLOOM 176B, 384 GPUs", 2048, 2, 14336, 4, 6, 128, 12, 0.630))


def main() -> None:
    for name, s, b, h, tp, layers, m, p, per_mb in RUNS:
        full = s * b * h * 2.0  # the boundary activation, bf16
        part = full / tp
        gather = collective_seconds(CLUSTER.fabric, "all_gather", full, tp, 1)
        rebuild = gather + memory_bound_seconds(RATES, full + 2 * part, 2) + memory_bound_seconds(RATES, 2 * full, 1)
        clone = memory_bound_seconds(RATES, 2 * part, 1)
        middle = 3 * rebuild + 5 * clone  # 3 full(); 2 slices, 2 received clones, the forward's input clone
        last = rebuild + 3 * clone  # the forward's full(); its gradient slice, a received clone, the input clone
        ckpt = layers * (gather + memory_bound_seconds(RATES, 2 * part, 1)
                         + memory_bound_seconds(RATES, full + 2 * part, 2))
        print(f"{name}: T x h {full / 1e6:.1f} MB, TP all-gather {gather * 1e3:.3f} ms, full() {rebuild * 1e3:.3f} ms")
        print(f"  pipe partition: middle stage {middle * 1e3:.2f} ms ({middle / per_mb:.2%}), last stage "
              f"{last * 1e3:.2f} ms a micro-batch; a step {m * last + (p - 1) * middle:.2f} s (last stage paces) .. "
              f"{(m + p - 1) * middle:.2f} s (a middle stage paces)")
        print(f"  partition_activations: {ckpt * 1e3:.2f} ms a micro-batch ({ckpt / per_mb:.2%}), "
              f"{(m + p - 1) * ckpt:.2f} s a step")


if __name__ == "__main__":
    main()
