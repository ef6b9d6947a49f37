"""Is an answer longer than every case behind its error band? (hU59, session 45)

The band of a training or serving answer is built from validation cases of its kind whatever their sequence length
(`catalog.error_bands`), but what the model gets wrong changes with length: attention's share of the FLOPs and of
the KV reads, activation memory and recompute, context parallelism, the prefill's chunking. The cases behind the
bands ran short sequences: training at most 8,192 tokens, serving at most 10,000 tokens of prompt + output
(`catalog/validated_lengths.yaml`, with sources). A 128k-context `serve` or a 131,072-token `train` is 13-16x
longer than any of them, so its band says nothing measured of that length, and the basis says so instead of
reading as if it applied as it does at 4k. ASSUMPTION: below the longest validated length the band is taken to
hold (the cases span 2,048-8,192 tokens for training and 128-10,000 for serving; shorter ones are not flagged).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from pydantic import Field

from infraplan.catalog.error_bands import ErrorBand
from infraplan.catalog.loader import safe_load_yaml
from infraplan.results import Result


class ValidatedLength(Result):
    """The longest sequence a kind's validation cases ran (catalog/validated_lengths.yaml)."""

    kind: str = Field(description="workload kind: training | serving")
    tokens: int = Field(gt=0, description="the longest validated length (tokens)")
    what: str = Field(description="which length: a training sequence, or a serving request's prompt + output")
    source: str = Field(description="the validation cases it is read from")


@lru_cache(maxsize=1)
def validated_lengths() -> dict[str, ValidatedLength]:
    text = (resources.files("infraplan.catalog") / "validated_lengths.yaml").read_text()
    entries = [ValidatedLength(**e) for e in safe_load_yaml(text)["lengths"]]
    return {e.kind: e for e in entries}


def beyond_validated_length(band: ErrorBand | None, kind: str, tokens: float) -> ErrorBand | None:
    """`band` with its basis saying the answer's length `tokens` is beyond the longest validated one of `kind`
    (module docstring); unchanged at or below it, for a kind with no entry, or without a band."""
    longest = validated_lengths().get(kind)
    if band is None or longest is None or tokens <= longest.tokens:
        return band
    return band.model_copy(update={"basis": (
        f"{band.basis}; outside the validated lengths: this answer's {longest.what} of {tokens:,.0f} tokens is "
        f"{tokens / longest.tokens:.1f}x the longest of the cases behind this band ({longest.tokens:,} tokens), "
        f"so no measurement shows the band holds at this length")})
