"""The sweep's `serve`: `estimate_serving`'s arguments and the CLI's flat prefill-pool options, so a sweep can vary
the prefill pool's own layout on an axis (hW73).

`serve --prefill-tp/--prefill-pp/--prefill-ep/--prefill-attention-dp/--prefill-max-batch/--prefill-moe-tp/
--prefill-token-budget` build one `PrefillLayout`, which the API takes as `prefill`; a spec's axis values are numbers
or text, so `prefill: [{tp: 2}, {tp: 4}]` cannot be an axis ("Input should be a valid string"), and `prefill_tp` was
refused as no argument of `serve`. Here `prefill_tp: [2, 4]` builds the layout as the CLI does (each a whole number,
null: the decode pool's);
`prefill` itself, a mapping in `fixed` (`PrefillLayout.read`), is still taken, and giving both is refused in one line.
"""

from __future__ import annotations

import inspect
from typing import Any

from infraplan.errors import InputError
from infraplan.results import Result
from infraplan.serving.disaggregated import PrefillLayout
from infraplan.serving.serving_api import estimate_serving

PREFILL_OPTIONS = ("prefill_tp", "prefill_pp", "prefill_ep", "prefill_attention_dp", "prefill_max_batch",
                   "prefill_moe_tp", "prefill_token_budget")
"""The CLI's flat prefill-pool options (`--prefill-tp`, ...): `PrefillLayout`'s fields with a `prefill_` prefix."""


def serve(model: Any, system: Any, gpus: Any, **options: Any) -> Result:
    """`infraplan serve` as a function: `estimate_serving(model, system, gpus, **options)`, the flat prefill options
    (`PREFILL_OPTIONS`, as the CLI's flags) built into its `prefill` layout."""
    flat = {k.removeprefix("prefill_"): v for k in PREFILL_OPTIONS if (v := options.pop(k, None)) is not None}
    if flat:
        if options.get("prefill") is not None:
            raise InputError("give the prefill pool's layout once: prefill, or "
                             + " / ".join(PREFILL_OPTIONS))
        options["prefill"] = PrefillLayout.read(flat)
    return estimate_serving(model, system, gpus, **options)


def _signature() -> inspect.Signature:
    """`estimate_serving`'s parameters, then `PREFILL_OPTIONS` (keyword-only, whole numbers or null)."""
    parameters = list(inspect.signature(estimate_serving).parameters.values())
    flat = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None, annotation="int | None")
            for n in PREFILL_OPTIONS]
    return inspect.Signature([*parameters, *flat], return_annotation=Result)


serve.__signature__ = _signature()  # type: ignore[attr-defined]
