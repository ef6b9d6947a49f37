"""The option a user meant when they typed a framework's name for it: `train --precision nvfp4` said only "No such
option: --precision", and `--tensor-parallel-size 8` was offered click's nearest spelling, `--sequence-parallel`
(hW59). `synonym_hint` answers "No such option" with infraplan's option where the name is another tool's for the
same setting, and the command has that option; the tool's own spelling is left to click's list otherwise.

Names, each as the tool's argument parser spells it:
* vLLM 0.12.0 vllm/engine/arg_utils.py: --dtype :625, --quantization :640, --pipeline-parallel-size :742,
  --tensor-parallel-size :751, --kv-cache-dtype :883, --max-num-batched-tokens :1031, --max-num-seqs :1038;
  its benchmark's --num-prompts, --request-rate and --max-concurrency (benchmarks/serve.py, recalled);
* SGLang 0.5.6.post2 sglang/srt/server_args.py: --kv-cache-dtype :2318, --max-running-requests :2377,
  --tensor-parallel-size / --tp-size :2490-2491, --expert-parallel-size / --ep-size :3149-3150;
* Megatron-LM megatron/training/arguments.py (as vendored in hetu-galvatron 2.4.0): --global-batch-size :953,
  --tensor-model-parallel-size :1323, --pipeline-model-parallel-size :1325,
  --num-layers-per-virtual-pipeline-stage :1333, --context-parallel-size :1374, --expert-model-parallel-size :1637;
* --precision: PyTorch Lightning's / NeMo's Trainer argument ("bf16-mixed"); --num-gpus / --world-size: launchers'.

A value outside an option's choices that the planner refuses for a reason (`value_hint`): `--kv-dtype mxfp8`, MTIA's
weight format asked of its KV cache, says why no engine stores it (`serving.kv_cache.kv_dtype_reason`, hM70).
"""

from __future__ import annotations

import re
from typing import Any

# another tool's option name -> infraplan's option for the same setting
SYNONYMS: dict[str, str] = {
    "--precision": "--dtype", "--quantization": "--dtype",
    "--tensor-parallel-size": "--tp", "--tensor-model-parallel-size": "--tp", "--tp-size": "--tp",
    "--pipeline-parallel-size": "--pp", "--pipeline-model-parallel-size": "--pp",
    "--expert-parallel-size": "--ep", "--expert-model-parallel-size": "--ep", "--ep-size": "--ep",
    "--context-parallel-size": "--cp", "--num-layers-per-virtual-pipeline-stage": "--vpp",
    "--global-batch-size": "--global-batch", "--kv-cache-dtype": "--kv-dtype",
    "--max-num-seqs": "--max-batch", "--max-running-requests": "--max-batch",
    "--max-num-batched-tokens": "--token-budget", "--num-prompts": "--requests", "--request-rate": "--rate",
    "--max-concurrency": "--concurrency", "--num-gpus": "--gpus", "--world-size": "--gpus",
}


def synonym_hint(exc: Any) -> str | None:
    """For click's NoSuchOption `exc`: "No such option: --precision; did you mean --dtype?" where the typed name is
    another tool's for an option of this command; else None (click's own message stands)."""
    name = getattr(exc, "option_name", None)
    target = SYNONYMS.get(name) if isinstance(name, str) else None
    command = getattr(getattr(exc, "ctx", None), "command", None)
    if target is None or command is None:
        return None
    options = {opt for param in command.params for opt in getattr(param, "opts", ())}
    return f"No such option: {name}; did you mean {target}?" if target in options else None


def value_hint(exc: Any) -> str | None:
    """For click's BadParameter `exc` of `--kv-dtype` naming a format outside the KV-cache choices: click's line with
    the planner's reason where it has one (`serving.kv_cache.kv_dtype_reason`: "no modelled engine stores an MXFP8 KV
    cache ..."); else None (click's own message stands)."""
    if "--kv-dtype" not in getattr(getattr(exc, "param", None), "opts", ()):
        return None
    asked = re.search(r"'([^']*)' is not one of", str(getattr(exc, "message", "")))
    if asked is None:
        return None
    from infraplan.serving.kv_cache import kv_dtype_reason  # lazy: the error path only (`train` loads no serving)

    why = kv_dtype_reason(asked.group(1))
    return f"{exc.format_message().replace(': Value error, ', ': ').rstrip('.')}: {why}" if why else None
