"""A serving release's own measured custom all-reduce for the TP all-reduce, where it was measured apart from the
catalog's.

The TP all-reduce of a stack with `custom_all_reduce` is priced by
`network.collective_algorithms.custom_all_reduce_time`: the faster of one-shot / two-shot, bounded from below by a
measured custom all-reduce curve, by default the accelerator's table in catalog/nccl (TensorRT-LLM 1.3.0rc20's
AllReduce, AIConfigurator 0.12.0; `network.nvlink_all_reduce`). A release whose own AllReduce was measured by NVIDIA
AIConfigurator names its table in its stack YAML (`all_reduce_table`: accelerator -> a catalog/nccl file of the same
format, same NCCL columns, its own custom columns), read instead by the same rule (`table`). The same policy as the
release's other measured kernels (`validation.release_stacks`: a release runs the tables of its own release line where
AIConfigurator measured it).

Source: aiconfigurator 0.7.0 wheel (Apache-2.0), systems/data/{h100_sxm,h200_sxm}/trtllm/1.0.0rc3/
custom_allreduce_perf.txt (catalog/nccl/aiconfigurator_{h100,h200}_trtllm_1.0.0rc3_all_reduce.csv cite it). TensorRT-LLM
1.0.0rc3's kernels are slower than 1.3.0rc20's at the decode sizes on H100 (microseconds, 1.0.0rc3 / 1.3.0rc20):
2 GPUs 64 KiB 3.70 / 3.06, 256 KiB 4.35 / 3.76, 2 MiB 20.1 / 9.4; 4 GPUs 64 KiB 4.15 / 3.68, 256 KiB 6.05 / 5.48;
8 GPUs 64 KiB 5.19 / 4.59, 128 KiB 8.17 / 6.20, 1 MiB 31.2 / 26.0 (below 64 KiB 0.4-2 us slower too; the catalog's
rows start at 64 KiB, whose efficiency holds below). Rows: the 1.0.0rc3 profiles (validation/data/stacks/
trtllm-1.0.0rc3*.yaml): the dense set's Llama-3.1-8B and Qwen3-32B gap-analysis campaigns and the MoE set's Qwen3-235B
rows of that release. Toggle `RELEASE_ALL_REDUCE` (False: every stack on the accelerator's table); effect measured in
validation/notes/serving_hopper_tried.md (round 18).
"""

from __future__ import annotations

from infraplan.catalog.schemas import Accelerator
from infraplan.serving import release_tables
from infraplan.serving.engines import serving_profile

RELEASE_ALL_REDUCE = True  # a release's own measured custom all-reduce table (`all_reduce_table`; docstring)


def table(accelerator: Accelerator, stack: str | None) -> str | None:
    """The catalog/nccl table of the stack release's measured custom all-reduce on this accelerator, or None (the
    accelerator's own table: `network.nvlink_all_reduce.table_file`)."""
    profile = serving_profile(stack) if RELEASE_ALL_REDUCE and stack else None
    return profile.all_reduce_table.get(release_tables.link_key(accelerator)) if profile is not None else None
