"""An offline burst spread over many engine batches is said (hW59, `serve_inputs.offline_fill_note`): `serve
deepseek-r1 --system gb200-nvl72 --gpus 72 --attention-dp 72 --ep 72 --offline` (README's wide-EP line) holds the
default 2,000 requests, 28 per attention-DP rank against a max batch of 2,048, and read 2,036 tokens/s per GPU with
nothing saying the figure is a part-filled burst's (14,400 requests: 5,367; every batch full: 7,515)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from infraplan.serving.serve_inputs import offline_fill_note
from infraplan.serving.serving_api import estimate_serving

WIDE = dict(attention_dp=72, ep=72, dtype="nvfp4", kv_dtype="fp8", stack="trtllm-0.x", offline=True,
            input_len=1000, output_len=1000)


@lru_cache(maxsize=4)
def _wide(requests: int | None) -> Any:
    return estimate_serving("deepseek-r1", "gb200-nvl72", 72, requests=requests, **WIDE)  # type: ignore[arg-type]


def _fill(result: Any) -> list[str]:
    return [w for w in result.warnings if w.startswith("offline:")]


def test_the_rule() -> None:
    # 72 ranks' batches of up to 2,048 (KV room 4.37 M tokens a rank at 2,000 a request: 2,184, so the max batch)
    note = offline_fill_note(2000, "default", 2000.0, 1, 72, 2048, 314_510_976)
    assert note is not None and "the default 2,000 requests over 72 engine batches" in note
    assert "about 28 a batch against the 2,048" in note and "--requests 147,456 fills every batch" in note
    # the KV cache bounds the batch where it holds fewer requests than the max batch
    kv = offline_fill_note(2000, "default", 2000.0, 8, 1, 2048, 3_710_000)
    assert kv is not None and "1,855 each can hold (the KV cache's room" in kv and "--requests 14,840" in kv
    assert offline_fill_note(80_000, "requests", 2000.0, 1, 72, 2048, 314_510_976) is None  # over half of every batch
    assert offline_fill_note(40, "requests", 220.0, 1, 1, 2048, 1e9) is None  # a batch of the N asked, on one engine
    assert offline_fill_note(400, "default", 220.0, 1, 1, 2048, 1e9) is not None  # the default count, one engine
    trace = offline_fill_note(500, "trace", 2000.0, 8, 1, 2048, 1e9)  # a trace's rows: not "the default"
    assert trace is not None and trace.startswith("offline: the trace's 500 requests over 8 engine batches")


def test_the_wide_ep_burst_says_so_and_more_requests_raise_the_rate() -> None:
    default, more = _wide(None), _wide(14_400)
    assert len(_fill(default)) == 1 and "about 28 a batch" in _fill(default)[0]
    assert more.output_tokens_per_s_per_gpu > 2 * default.output_tokens_per_s_per_gpu  # the note's "rises"
    assert "--requests 14,400" in _fill(more)[0]  # 200 a batch: still under half


def test_one_filled_replica_says_nothing() -> None:
    one = estimate_serving("deepseek-r1", "gb200-nvl72", 8, tp=8, dtype="nvfp4", kv_dtype="fp8",
                           stack="trtllm-0.x", offline=True, input_len=1000, output_len=1000)
    assert not _fill(one)  # 2,000 requests in one batch of up to 2,048
