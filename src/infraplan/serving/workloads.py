"""Request streams for the serving simulator: presets, fixed ISL/OSL, or a CSV trace.

Arrivals: Poisson (exponential gaps), Gamma gaps with a coefficient of variation `cv` (cv > 1 is burstier
than Poisson, as in production LLM traces), or everything at t = 0 (`offline`, the max-throughput
benchmark of trtllm-bench and MLPerf Offline). Lengths: fixed, or log-normal with a median and a spread,
clipped. Every random draw comes from `numpy.random.default_rng(seed)`: same seed, same requests.

A trace is a CSV file with a header naming `arrival_s`, `input_tokens`, `output_tokens` (other columns are
ignored, and said: `ignored_columns_note`); each bad row is an InputError naming its line.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

import numpy as np

from infraplan.catalog.serving_loader import Arrival, LengthDistribution, WorkloadSpec
from infraplan.catalog.user_files import read_text_file
from infraplan.errors import InputError
from infraplan.limits import MAX_TOKENS

TRACE_COLUMNS = ("arrival_s", "input_tokens", "output_tokens")


@dataclass(frozen=True)
class Requests:
    """Requests sorted by arrival: times in seconds, token counts as int64 arrays."""

    arrival_s: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray

    def __post_init__(self) -> None:
        order = np.argsort(self.arrival_s, kind="stable")
        object.__setattr__(self, "arrival_s", np.asarray(self.arrival_s, dtype=np.float64)[order])
        object.__setattr__(self, "input_tokens", np.asarray(self.input_tokens, dtype=np.int64)[order])
        object.__setattr__(self, "output_tokens", np.asarray(self.output_tokens, dtype=np.int64)[order])

    def __len__(self) -> int:
        return len(self.arrival_s)

    def subset(self, index) -> Requests:
        return Requests(self.arrival_s[index], self.input_tokens[index], self.output_tokens[index])


def require_context(tokens: int, model: str, context: int) -> None:
    """Refuse a request of `tokens` (prompt + output) beyond the model's `context`: fixed lengths and traces are the
    user's own requests, which an engine rejects (a preset's long tail is truncated instead, `clip_to_context`)."""
    if tokens > context:
        raise InputError(f"a request of {tokens} tokens exceeds {model}'s context of {context} (its config's "
                         f"max_position_embeddings; a longer-context variant of {model}, where one exists, is served "
                         "from its HF config.json path)")


def clip_to_context(requests: Requests, context: int) -> tuple[Requests, int]:
    """Truncate prompts (then outputs) so prompt + output fit the model's context; also count the clipped."""
    out = np.minimum(requests.output_tokens, context - 1)
    inp = np.minimum(requests.input_tokens, context - out)
    clipped = int(np.count_nonzero((inp != requests.input_tokens) | (out != requests.output_tokens)))
    return Requests(requests.arrival_s, inp, out), clipped


def clipped_note(drawn: Requests, served: Requests, clipped: int, model: str, context: int) -> str | None:
    """Say the requests `clip_to_context` truncated: `serve` printed none of it (only --json's
    `requests_clipped_to_context`), so a workload whose prompts pass the context was answered for shorter ones
    in silence (hW74: summarization on gpt3-175b's 2,048 tokens, 1,822 of 2,000 truncated)."""
    if not clipped:
        return None
    mean_in, mean_out = float(drawn.input_tokens.mean()), float(drawn.output_tokens.mean())
    return (f"{clipped:,} of {len(drawn):,} requests were truncated to {model}'s context of {context:,} tokens "
            f"(prompt first, then output): the figures are for the truncated requests, mean prompt "
            f"{float(served.input_tokens.mean()):,.0f} and output {float(served.output_tokens.mean()):,.0f} tokens "
            f"served where the workload drew {mean_in:,.0f} and {mean_out:,.0f}")


def unused_arrival_note(spec: WorkloadSpec | None, workload: str | None, clients: int, offline: bool) -> str | None:
    """Say that a workload's own arrival process (gamma, its `cv`) goes undrawn in a closed loop (`clients` > 0) or
    offline: those runs send requests as clients free up or all at t = 0, and the burstiness the workload names
    was dropped without a word (session 74's walk; a trace's arrivals are said by `trace_clients_note`). Poisson
    (the default, no parameter of its own beside --rate) and open-loop runs: None."""
    if spec is None or spec.arrival.process == "poisson" or not (clients > 0 or offline):
        return None
    how = (f"--concurrency {clients:,} sends each client's next request when its last one ends" if clients > 0
           else "--offline sends every request at t = 0")
    return (f"workload {workload or spec.name}'s {spec.arrival.process} arrivals (cv {spec.arrival.cv:g}) are not "
            f"drawn: {how} (give --rate instead to draw them)")


def arrival_times(n: int, rate_per_s: float | None, process: Arrival, rng: np.random.Generator,
                  spans: np.ndarray | None = None) -> np.ndarray:
    """n arrival times at `rate_per_s` (None = offline: all at t = 0).

    `spans`: how many gaps of the stream at `rate_per_s` each gap spans (a router's share of it, `serving.
    replica_share`), drawn whole: a sum of m i.i.d. Gamma(k, theta) gaps is Gamma(m k, theta) (exponential: k = 1),
    so the share has its exact law without the other requests being drawn; None: one each (the stream itself)."""
    if rate_per_s is None:
        return np.zeros(n)
    if not rate_per_s > 0:
        raise InputError(f"--rate must be > 0 requests/s, got {rate_per_s}")
    shape = 1.0 / process.cv**2 if process.process == "gamma" else 1.0
    if spans is not None and np.any(spans != 1):
        gaps = rng.gamma(shape * spans[:n], 1.0 / (rate_per_s * shape))
    elif process.process == "gamma":
        gaps = rng.gamma(shape, 1.0 / (rate_per_s * shape), size=n)
    else:
        gaps = rng.exponential(1.0 / rate_per_s, size=n)
    with np.errstate(invalid="ignore", over="ignore"):  # overflowed gaps are refused below, in one line
        arrivals = np.cumsum(gaps) - gaps[0]  # the first request arrives at t = 0
    if not np.isfinite(arrivals).all():  # hH63: a subnormal rate (5e-324) made them nan, the simulation never ended
        raise InputError(f"--rate {rate_per_s:g} requests/s is too low to simulate: {n:,} arrivals overflow a "
                         "float's range of seconds")
    return arrivals


def lengths(n: int, dist: LengthDistribution, rng: np.random.Generator) -> np.ndarray:
    if dist.distribution == "fixed" or dist.sigma == 0:
        values = np.full(n, dist.median)
    else:
        values = dist.median * np.exp(dist.sigma * rng.standard_normal(n))
    return np.clip(np.rint(values), dist.min, dist.max).astype(np.int64)


def workload_requests(spec: WorkloadSpec, n: int, rate_per_s: float | None, seed: int,
                      spans: np.ndarray | None = None) -> Requests:
    """Draw n requests from an LLM workload preset (lengths first, then arrivals, from one seeded stream;
    `spans` as `arrival_times`)."""
    if spec.input_tokens is None or spec.output_tokens is None:
        raise InputError(f"workload {spec.name!r} is not an LLM workload")
    rng = np.random.default_rng(seed)
    inputs = lengths(n, spec.input_tokens, rng)
    outputs = lengths(n, spec.output_tokens, rng)
    return Requests(arrival_times(n, rate_per_s, spec.arrival, rng, spans), inputs, outputs)


def fixed_requests(n: int, input_len: int, output_len: int, rate_per_s: float | None, seed: int,
                   process: Arrival | None = None, stop_per_token: float = 0.0,
                   spans: np.ndarray | None = None) -> Requests:
    """n requests of fixed input/output length (trtllm-bench style synthetic ISL/OSL).

    `stop_per_token` q > 0: a request's output ends early at the first end-of-sequence token, which the model
    samples at each output token with probability q (a client that does not force `ignore_eos`), so its length
    is min(geometric(q), output_len): P(full length) = (1 - q)^output_len. q = 0: every output is output_len.
    `spans`: as `arrival_times`.
    """
    if input_len < 1 or output_len < 1:
        raise InputError(f"--input-len and --output-len must be >= 1 token, got {input_len} and {output_len}")
    if not 0.0 <= stop_per_token < 1.0:
        raise InputError(f"end-of-sequence probability per token must be in [0, 1), got {stop_per_token}")
    rng = np.random.default_rng(seed)
    arrivals = arrival_times(n, rate_per_s, process or Arrival(process="poisson"), rng, spans)
    outputs = np.full(n, output_len)
    if stop_per_token > 0.0:
        outputs = np.minimum(rng.geometric(stop_per_token, n), output_len)
    return Requests(arrivals, np.full(n, input_len), outputs)


def _field(row: dict[str, str], key: str, line: int, path: str, integer: bool) -> float:
    text = (row.get(key) or "").strip()
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"trace {path} line {line}: {key} {text!r} is not a number") from None
    # times up to 1e9 s (31 years, infraplan.limits.Seconds): at 1e300 s the run's duration rounded to 0; token
    # counts up to infraplan.limits.MAX_TOKENS, as --input-len / --output-len: 1e22 wrapped round in the int64 arrays
    # and ran as a negative length (throughput and J/token below 0, exit 0)
    if (not math.isfinite(value) or value < 0 or (integer and (value < 1 or value != int(value) or value > MAX_TOKENS))
            or (not integer and value > 1e9)):
        kind = f"a whole number from 1 to {MAX_TOKENS:,}" if integer else "a time from 0 to 1e9 s"
        raise InputError(f"trace {path} line {line}: {key} must be {kind}, got {text!r}")
    return value


def read_trace(path: str, limit: int | None = None) -> Requests:
    """Read a CSV trace of (arrival_s, input_tokens, output_tokens); the first row is the header."""
    text = read_text_file(path, "trace file")
    arrivals: list[float] = []
    inputs: list[float] = []
    outputs: list[float] = []
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in TRACE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"trace {path} line 1: header lacks {', '.join(missing)} "
                             f"(need {', '.join(TRACE_COLUMNS)})")
        # a column named twice: DictReader keeps the last silently, as json.loads a repeated name (hR80; the
        # product's files refuse both, `catalog.yaml_text`)
        twice = [c for c in TRACE_COLUMNS if (reader.fieldnames or []).count(c) > 1]
        if twice:
            raise InputError(f"trace {path} line 1: header names {', '.join(twice)} twice (which is meant?)")
        for row in reader:
            line = reader.line_num
            if None in row or any(row.get(c) is None for c in TRACE_COLUMNS):
                raise InputError(f"trace {path} line {line}: expected {len(reader.fieldnames or [])} fields")
            arrivals.append(_field(row, "arrival_s", line, path, integer=False))
            inputs.append(_field(row, "input_tokens", line, path, integer=True))
            outputs.append(_field(row, "output_tokens", line, path, integer=True))
            if limit is not None and len(arrivals) >= limit:
                break
    if not arrivals:
        raise InputError(f"trace {path} has no requests")
    return Requests(np.array(arrivals), np.array(inputs), np.array(outputs))


def ignored_columns_note(path: str | None) -> str | None:
    """Name a trace's columns beyond TRACE_COLUMNS, which `read_trace` does not read (a prefix hash, a session or a
    priority column changed no figure without a word: session 74's walk). None without a trace or without such a
    column. Called after `read_trace` has read the file (its header is valid)."""
    if path is None:
        return None
    header = next(csv.reader(io.StringIO(read_text_file(path, "trace file").partition("\n")[0])), [])
    extra = [c for c in header if c not in TRACE_COLUMNS]
    if not extra:
        return None
    return (f"trace {path}: column{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))} not read (a trace "
            f"gives each request's {', '.join(TRACE_COLUMNS)} alone; no prefix sharing, session or priority is "
            "modelled from it)")
