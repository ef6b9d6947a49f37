"""Hybrid sharding (HSDP, partial ZeRO): ZeRO's shards over N of a plan's DP x CP ranks, replicated across the
DP x CP / N groups (`PlanArrays.zero_shard`, `train --zero-shard N`; 0 or N = DP x CP: ZeRO over the whole group).

What the frameworks run (read):
* PyTorch FSDP2 HSDP (torch 2.14.1 torch/distributed/fsdp/_fully_shard/): a 2-D device mesh (replicate, shard).
  Parameters are all-gathered and gradients reduce-scattered over the shard dim only (_fsdp_param_group.py:975-993,
  `_all_gather_process_group` / `_reduce_scatter_process_group`: the shard mesh's group); the reduce-scatter's output
  (the 1 / N shard) is then all-reduced over the replicate dim (_fsdp_collectives.py:522-536 `foreach_reduce`,
  `all_reduce_group` "not `None` iff HSDP"; :617-632 the reduce-scatter, :634-661 `dist.all_reduce(reduce_output,
  group=all_reduce_group)` on its own stream after it), per parameter group (a layer). torchtitan 0.3.0 runs it as
  `data_parallel_replicate_degree` x `data_parallel_shard_degree` (config/configs.py:113-134), its dense mesh
  (pp, dp_replicate, dp_shard, cp, tp) with the FSDP group dp_shard x cp inside dp_replicate (distributed/
  parallel_dims.py:215-237), HSDP where the data-parallel mesh holds dp_replicate (distributed/fsdp.py:318-322;
  models/llama3/parallelize.py:74-76), with or without a pipeline (FSDP2 per stage): ZeRO-2 and ZeRO-3.
* Megatron-Core 0.16.1 `num_distributed_optimizer_instances` (distributed/distributed_data_parallel_config.py:30-33):
  the dp-cp group's ranks cut into contiguous instances of DP x CP / instances ranks (parallel_state.py:833-840,
  :882-905), the distributed optimizer (ZeRO-1) sharded within one; each bucket's gradients reduce-scattered over
  the instance, then the shard all-reduced across instances (distributed/param_and_grad_buffer.py:426-446,
  :460-485), the parameters all-gathered within the instance (:270-290); it needs the distributed optimizer
  (distributed_data_parallel.py:226-229). ZeRO-1 under nemo-26.04.
Priced: ZeRO's collectives over the N inner ranks at the DP x CP group's stride (`stage_params.dp_groups`), the
shard's all-reduce over the DP x CP / N replicas at N times that stride after each reduce-scatter, in its term
(`step_traffic._replica_all_reduce`), and the ZeRO-sharded memory over N (`stage_params.sharded_of`). Not modelled,
refused: MoE models (their expert data-parallel groups' sharding under HSDP not read), ZeRO-0 (nothing sharded),
Megatron-FSDP's HSDP (`outer_dp_sharding_strategy`, not read) and DeepSpeed ZeRO++ hpZ (`zero_hpz_partition_size`:
a secondary ZeRO-3 weight copy within a node, gradients still over all of DP; not read). `search` does not try it.
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, list_stacks, load_stack
from infraplan.errors import InputError

# `search`'s note (`training.search`): the axis is not searched
SEARCH_NOTE = "hybrid sharding (train --zero-shard N) not searched: ZeRO over all of DP x CP"


def zero_shard_ranks(shape: TransformerShape, profile: Stack, zero: int, dp: int, cp: int, asked: int) -> int:
    """The plan's `zero_shard` for `train --zero-shard N` (0: ZeRO over all of DP x CP, N = DP x CP included, so
    both ask one question); one InputError line where the stack, the ZeRO stage, the model or N refuse it."""
    group = dp * cp
    if asked < 1 or group % asked:
        raise InputError(f"--zero-shard {asked}: the ranks ZeRO shards over must divide DP x CP = {group} "
                         f"(DP {dp} x CP {cp})")
    if asked == group:
        return 0
    if shape.is_moe:
        raise InputError(f"--zero-shard {asked}: hybrid sharding of an MoE model (its expert data-parallel groups) "
                         "is not modelled; leave --zero-shard out")
    stages = profile.zero_shard_stages or ()
    if zero not in stages:  # what would run it, named (hU41, session 41: "pick such a stack / --zero" named none)
        runs = (f"it shards ZeRO-{'/'.join(map(str, stages))} only: its zero_shard_stages, zero_shard_stages_source"
                if stages else "it names no zero_shard_stages")
        others = [name for name in list_stacks() if zero in (load_stack(name).zero_shard_stages or ())]
        instead = [*([f"--zero {' or '.join(map(str, stages))}"] if stages else []),
                   *([f"a stack that shards ZeRO-{zero} ({', '.join(others)})"] if others else [])]
        raise InputError(f"--zero-shard {asked}: stack {profile.name} does not run ZeRO-{zero} over part of DP "
                         f"({runs}); use {', '.join([*instead, 'or leave --zero-shard out'])}")
    return asked


def zero_shard_note(profile: Stack, zero: int, dp: int, cp: int, shard: int) -> str:
    """What `train` says of a plan under hybrid sharding (`shard` > 0)."""
    replicas = dp * cp // shard
    return (f"hybrid sharding: ZeRO-{zero} over {shard} of the DP x CP {dp * cp} ranks (its gathers and "
            f"reduce-scatters there), replicated across {replicas} groups: each reduce-scatter's 1/{shard} shard "
            f"all-reduced over {replicas} ranks after it, overlapped as the reduce-scatter "
            f"({profile.name}: zero_shard_stages_source)")
