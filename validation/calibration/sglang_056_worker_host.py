"""SGLang 0.5.6.post2 under Dynamo 0.8.x: host microseconds per running request per decode iteration, measured by
running the engines' own per-token Python on a CPU (no GPU, no model); the source of `host_per_sequence_s` in
validation/data/stacks/sglang-0.5.6-mixed-chunk.yaml (hC, session 54; validation/notes/serving_hopper_tried.md).

What runs per request per decode iteration, by process (sglang 0.5.6.post2 wheel; ai-dynamo 0.8.1 wheel, the release
whose `sglang` extra pins sglang==0.5.6.post2):
* scheduler (one process per TP rank; the overlap scheduler is on by default, server_args.py:522, scheduler.py:259,
  1005-1063: it prepares and launches batch k+1 while the GPU runs batch k, so its work is hidden up to the GPU step):
  `process_batch_result_decode` (scheduler_output_processor_mixin.py:314-425: token append, `check_finished`) and
  `stream_output_generation` (:734-1000: ~25 list appends a request, one BatchTokenIDOutput pickled onto a zmq PUSH);
  `update_running_batch` / `prepare_for_decode` / `get_model_worker_batch` (scheduler.py:1916-1960,
  schedule_batch.py:1720-1980: per-request loops of one attribute each, the rest tensor ops per batch).
* Dynamo worker (one process, one asyncio loop: AIConfigurator 0.6.0 run.sh.j2 runs `python3 -m dynamo.sglang ...
  --enable-metrics`; its generator passes --skip-tokenizer-init, backend_config_mapping.yaml:183-189, so the
  scheduler sends its token ids straight to the TokenizerManager, scheduler.py:633-637): the batch unpickled
  (`handle_loop`, tokenizer_manager.py:1446-1451), `_handle_batch_output` (:1475-1600; `stream_output` off, :310, so
  it copies the request's whole output list every token) with `collect_metrics` (:1839-1898), the request's
  `_wait_one_response` (:951-1044, `asyncio.wait_for` each token) through `generate_request` (:432-433), Dynamo's
  `_process_token_stream` (decode_handler.py:166-222, copied below without its cancellation monitor), then the
  runtime's Rust bridge (not run here: ai-dynamo-runtime 0.4.0's measured by hD54, ~23 us a token on this CPU).

Run (a private venv, never the project's): python3.11 -m venv V; V/bin/pip install torch==2.13.0 (the CPU wheel on
disk; the runs in the notes had 2.14.1, which torchvision pulled in); V/bin/pip install --no-deps
sglang==0.5.6.post2; then its pure-Python imports (tqdm requests packaging
psutil pydantic transformers==4.57.1 orjson msgspec pyzmq setproctitle pybase64 einops aiohttp fastapi uvloop
pyyaml IPython pillow triton openai partial_json_parser dill sentencepiece compressed-tensors loguru gguf
prometheus-client); the GPU-only packages (sgl_kernel, flashinfer, deep_gemm) are stubbed below. Then
`V/bin/python validation/calibration/sglang_056_worker_host.py` prints one JSON line per (part, N, repeat); GC=0
disables the garbage collector (its share), DONE sets the tokens already generated (the copy grows with it).
"""

from __future__ import annotations

import asyncio
import gc
import importlib.abc
import importlib.machinery
import json
import os
import pickle
import sys
import tempfile
import time
import types

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp())  # --enable-metrics: multiprocess mode


class _Dummy:
    """Any attribute of a stubbed package: attributes chain, calls raise (none is called on the timed path)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __call__(self, *a: object, **kw: object) -> object:
        raise RuntimeError(f"stub {self._name} called")

    def __getattr__(self, k: str) -> object:
        if k.startswith("__"):
            raise AttributeError(k)
        return _Dummy(f"{self._name}.{k}")

    def __mro_entries__(self, bases: tuple) -> tuple:
        return (object,)


class _Stub(types.ModuleType):
    def __getattr__(self, k: str) -> object:
        if k.startswith("__"):
            raise AttributeError(k)
        return _Dummy(f"{self.__name__}.{k}")


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """GPU-only packages the scheduler's modules import but the bookkeeping timed here never calls."""
    names = ("sgl_kernel", "flashinfer", "deep_gemm")

    def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
        return importlib.machinery.ModuleSpec(name, self, is_package=True) if name.split(".")[0] in self.names else None

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        m = _Stub(spec.name)
        m.__path__ = []
        return m

    def exec_module(self, module):  # type: ignore[no-untyped-def]
        pass


sys.meta_path.insert(0, _StubFinder())
if os.environ.get("GC", "1") == "0":
    gc.disable()

import torch  # noqa: E402
import uvloop  # noqa: E402
from sglang.srt.disaggregation.utils import DisaggregationMode  # noqa: E402
from sglang.srt.managers.schedule_batch import Req  # noqa: E402
from sglang.srt.managers.scheduler import Scheduler  # noqa: E402
from sglang.srt.managers.tokenizer_manager import ReqState, TokenizerManager  # noqa: E402
from sglang.srt.metrics.collector import TokenizerMetricsCollector  # noqa: E402
from sglang.srt.sampling.sampling_params import SamplingParams  # noqa: E402
from sglang.srt.speculative.spec_info import SpeculativeAlgorithm  # noqa: E402

ISL, DONE, ITERS = 1000, int(os.environ.get("DONE", 500)), 100
COLLECTOR = TokenizerMetricsCollector(labels={"model_name": "llama"})


def scheduler(blobs: list[bytes]) -> Scheduler:
    """A Scheduler with the attributes its decode-result path reads (overlap on, metrics logging every 40 steps
    left out); its output to the TokenizerManager pickled as `send_pyobj` does."""
    s = object.__new__(Scheduler)
    s.enable_overlap, s.is_generation, s.stream_interval, s.attn_tp_rank = True, True, 1, 0
    s.server_args = types.SimpleNamespace(disaggregation_decode_enable_offload_kvcache=False,
                                          enable_request_time_stats_logging=False, decode_log_interval=40)
    s.num_generated_tokens, s.forward_ct_decode, s.tree_cache = 0, 0, None
    s.spec_algorithm = SpeculativeAlgorithm.NONE
    s.token_to_kv_pool_allocator = types.SimpleNamespace(free_group_begin=lambda: None, free_group_end=lambda: None)
    s.model_config = types.SimpleNamespace(is_multimodal_gen=False)
    s.disaggregation_mode = DisaggregationMode.NULL
    s.current_scheduler_metrics_enabled = lambda: False
    s.send_to_detokenizer = types.SimpleNamespace(send_output=lambda o, r=None: blobs.append(pickle.dumps(o)))
    return s


def requests(n: int) -> list[Req]:
    """n running requests, ISL 1,000 prompt ids, DONE tokens generated, ignore_eos, streamed."""
    out = []
    for i in range(n):
        sp = SamplingParams(max_new_tokens=100_000, ignore_eos=True)
        sp.normalize(None)
        r = Req(f"{i:032x}", "", list(range(ISL)), sp, stream=True, eos_token_ids={128001, 128008, 128009},
                vocab_size=128256)
        r.output_ids = list(range(DONE))
        out.append(r)
    return out


def scheduler_part(n: int) -> tuple[float, list[bytes]]:
    """CPU us a request an iteration of `process_batch_result_decode` (with `stream_output`), and the batches."""
    blobs: list[bytes] = []
    s, reqs = scheduler(blobs), requests(n)
    batch = types.SimpleNamespace(reqs=reqs, spec_algorithm=SpeculativeAlgorithm.NONE, return_logprob=False,
                                  is_v2_eagle=False, batch_size=lambda: n)
    res = types.SimpleNamespace(copy_done=None, logits_output=None, can_run_cuda_graph=True,
                                next_token_ids=torch.randint(0, 128000, (n,), dtype=torch.int64))
    for _ in range(6):
        s.process_batch_result_decode(batch, res)
    c0 = time.process_time()
    for _ in range(ITERS):
        s.process_batch_result_decode(batch, res)
    return (time.process_time() - c0) / ITERS / n * 1e6, blobs


async def _generate_request(tm, obj, state):  # type: ignore[no-untyped-def]  # tokenizer_manager.py:432-433
    async for response in tm._wait_one_response(obj, state, None):
        yield response


async def _process_token_stream(stream_source):  # type: ignore[no-untyped-def]  # decode_handler.py:184-222
    num_output_tokens_so_far = 0
    request_id_future: asyncio.Future = asyncio.Future()
    async for res in stream_source:
        if not request_id_future.done():
            sglang_request_id = res.get("meta_info", {}).get("id")
            if sglang_request_id:
                request_id_future.set_result(sglang_request_id)
        out = {}
        finish_reason = res["meta_info"]["finish_reason"]
        if finish_reason:
            out["finish_reason"] = finish_reason["type"]
        output_ids = res.get("output_ids", [])
        if not output_ids and not finish_reason:
            yield {"finish_reason": "error", "token_ids": []}
            break
        out["token_ids"] = output_ids[num_output_tokens_so_far:]
        num_output_tokens_so_far = len(output_ids)
        yield out


async def worker_part(n: int, blobs: list[bytes]) -> float:
    """CPU us a token of the worker's loop: each batch unpickled and handled, every request's stream woken."""
    tm = object.__new__(TokenizerManager)
    tm.rid_to_state, tm.enable_metrics, tm.metrics_collector = {}, True, COLLECTOR
    tm.server_args = types.SimpleNamespace(stream_output=False, weight_version="default", speculative_algorithm=None,
                                           enable_lora=False, skip_tokenizer_init=True)
    tm.disaggregation_mode, tm.dump_requests_folder, tm.crash_dump_folder = DisaggregationMode.NULL, "", None
    tm.log_requests, tm.model_config = False, types.SimpleNamespace(is_multimodal_gen=False)
    got, step = [0], asyncio.Event()

    async def client(rid: str) -> None:
        obj = types.SimpleNamespace(stream=True, return_logprob=False, log_metrics=True, custom_labels=None, rid=rid,
                                    background=False, lora_path=None, input_ids=list(range(ISL)))
        st = ReqState(out_list=[], finished=False, event=asyncio.Event(), obj=obj, created_time=time.time())
        st.output_ids, st.first_token_time, st.last_completion_tokens = list(range(DONE)), time.time(), DONE
        tm.rid_to_state[rid] = st
        async for _ in _process_token_stream(_generate_request(tm, obj, st)):
            got[0] += 1
            if got[0] == n:
                step.set()

    tasks = [asyncio.ensure_future(client(f"{i:032x}")) for i in range(n)]
    await asyncio.sleep(0)
    for k, blob in enumerate(blobs):
        if k == 6:
            c0 = time.process_time()
        got[0] = 0
        step.clear()
        tm._handle_batch_output(pickle.loads(blob))  # handle_loop: recv_pyobj, `_result_dispatcher`
        await step.wait()
    cpu = time.process_time() - c0
    for t in tasks:
        t.cancel()
    return cpu / ITERS / n * 1e6


if __name__ == "__main__":
    for n in [int(x) for x in os.environ.get("NS", "64,256,512").split(",")]:
        for rep in range(int(os.environ.get("REPS", "2"))):
            sched_us, blobs = scheduler_part(n)
            gc.collect()  # the scheduler's requests live in its own process: the worker's heap holds its states
            worker_us = uvloop.run(worker_part(n, blobs))
            print(json.dumps({"n": n, "rep": rep, "done_tokens": DONE, "gc": gc.isenabled(),
                              "scheduler_us_per_request": round(sched_us, 2),
                              "worker_us_per_token": round(worker_us, 2), "load": os.getloadavg()[0]}), flush=True)
