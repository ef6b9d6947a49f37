"""The sweep's `train` and `search`: their API functions' arguments and the CLI's whole-run options (`--tokens`), so
a sweep prices whole runs.

A point with `tokens` gives what `train --tokens --json` gives for it (`planning.search_run.estimate_with_run`, the
one implementation the CLI, the web and `search --tokens` call): the estimate's fields and the run's
(`time_to_train_s`, `goodput`, `gpu_hours`, `energy_mwh`, `co2_t`, `cost_usd`, ...), priced at `location` with the
`costs` file and `server_price` on top, `eval_every` / `eval_samples` in its wall clock. `memory_margin`: the
estimate's own (`train --memory-margin`: its headroom flag, and `--recompute auto` keeps it). Their refusals
are `train`'s lines (`training.evaluation.eval_options` before any pricing, `training.run_options.check_run_options`:
a price option without `tokens`; `server_price` read as `--server-price` reads it, its refusal naming the spec's key,
`server_price_of`). A batch whose points take none of them runs `functions.train_batch` unchanged (its speed:
benchmarks/sweep_throughput.py); one that does runs the same batch on the plain points, then each point's run.

`search` (hP62; hI62: "sweep function 'search' takes no argument 'tokens'"): `search_plans`' arguments and
`SEARCH_RUN_OPTIONS`. A point with `tokens` gives what `search --tokens --json` gives for one GPU count: the search
with `best_run` (the best plan estimated again as `train` of its `train_command`, then its whole run) and
`best_run_command` (`planning.search_run.search_with_run`, the one implementation the CLI and the web call), its
options checked before the search runs in the CLI's order and words (`cli.commands._search_run.RunAsk`); without
them the point is `search_plans` itself, as before. The CLI compares dtypes on a one-count search
(`compare_dtypes`), as the API does by default (hU67; before, a spec set `compare_dtypes: true` for the CLI's answer):
a spec sets `compare_dtypes: false` to skip the other precisions' searches.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from infraplan.errors import InputError
from infraplan.results import Result
from infraplan.training.estimate import estimate_training
from infraplan.training.results import PlanSearchResult
from infraplan.training.search import search_plans

RUN_OPTIONS = ("tokens", "location", "server_price", "costs", "eval_every", "eval_samples", "memory_margin",
               "no_spare_policy")
"""`train`'s options beyond `estimate_training`'s (the CLI's names), each None by default as on the CLI."""
SEARCH_RUN_OPTIONS = ("tokens", "location", "server_price", "costs", "eval_every", "eval_samples", "no_spare_policy")
"""`search`'s whole-run options beyond `search_plans`' (the CLI's names; `memory_margin` is the search's own)."""
_PARAMETERS = inspect.signature(estimate_training).parameters
_TEXT = {"location": "str | None", "costs": "str | None", "no_spare_policy": "str | None"}
"""The run options that take only text (a preset name or a file), as annotations (`functions.check_argument_kinds`)."""


def run_signature(function: Any, options: Sequence[str]) -> inspect.Signature:
    """`function`'s parameters (keyword-only after its required ones: the sweep passes keywords), then `options`
    (each None by default; the text-only ones annotated so, `_TEXT`)."""
    parameters = inspect.signature(function).parameters
    head = [p for p in parameters.values() if p.default is inspect.Parameter.empty]
    rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters.values() if p not in head]
    run = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=_TEXT.get(n, inspect.Parameter.empty)) for n in options if n not in parameters]
    return inspect.Signature([*head, *rest, *run], return_annotation=Result)


def server_price_of(value: Any) -> float | None:
    """A spec's `server_price` (USD per accelerator) read as `--server-price` reads it (`limits.Price`: a number, or
    its text, in [0, 1e12]); one line naming the spec's key where it is not one (hI62: "invalid override
    server_usd_per_accelerator: ...", the cost override's internal field)."""
    if value is None:
        return None
    from pydantic import TypeAdapter, ValidationError

    from infraplan.limits import Price

    try:
        return float(TypeAdapter(Price).validate_python(value))
    except ValidationError as exc:
        why = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise InputError(f"invalid server_price (USD per accelerator, as --server-price): {why}; got "
                         f"{str(value)[:40]!r}") from None


def train(model: Any, system: Any, gpus: Any, **options: Any) -> Result:
    """`infraplan train` as a function: `estimate_training(model, system, gpus, **options)`, with the whole run on
    `tokens` where given (module docstring); its signature is `estimate_training`'s and `RUN_OPTIONS`."""
    given = {k: options.pop(k, None) for k in RUN_OPTIONS}  # a spec's `costs: null` is no option (hI62: a TypeError)
    run = {k: v for k, v in given.items() if v is not None}
    if given["memory_margin"] is not None:  # (the estimate's own too: `--recompute auto` keeps it, hW73)
        options["memory_margin"] = given["memory_margin"]
    if not run:
        return estimate_training(model, system, gpus, **options)
    point = {"model": model, "system": system, "gpus": gpus, **options}
    evaluated = _evaluated(point, run)
    return with_run(estimate_training(**point), point, run, evaluated)


train.__signature__ = run_signature(estimate_training, RUN_OPTIONS)  # type: ignore[attr-defined]


def _evaluated(point: Mapping[str, Any], run: Mapping[str, Any]) -> tuple[int, int] | None:
    """`train`'s --eval-every / --eval-samples read before any pricing (`evaluation.eval_options`, one line)."""
    from infraplan.training.evaluation import eval_options

    seq_len, batch = (point.get(k, _PARAMETERS[k].default) for k in ("seq_len", "global_batch"))
    return eval_options(run.get("eval_every"), run.get("eval_samples"), run.get("tokens"), seq_len, batch)


def with_run(estimate: Any, point: Mapping[str, Any], run: Mapping[str, Any],
             evaluated: tuple[int, int] | None) -> Result:
    """The point's estimate as `train` finishes it with `run` (`RUN_OPTIONS` given): its whole run on `tokens`
    (`search_run.estimate_with_run`, as `cli.commands.train.whole_run`), else the price options refused without it
    (`check_run_options`); `memory_margin` is the estimate's own (`estimate_training`)."""
    from infraplan.cluster.cost import load_cost_overrides
    from infraplan.planning.search_run import estimate_with_run
    from infraplan.training.run_options import check_run_options

    tokens, location, costs = (run.get(k) for k in ("tokens", "location", "costs"))
    price = server_price_of(run.get("server_price"))
    policy = run.get("no_spare_policy")  # train --no-spare-policy (hR74)
    if tokens is None:
        check_run_options(None, location, price, costs, no_spare_policy=policy)
        return estimate
    system = point["system"]
    overrides = load_cost_overrides(costs).merged(server_usd_per_accelerator=price)
    return estimate_with_run(estimate, point["model"], system, tokens, stack=point.get("stack"),
                             sharp=bool(point.get("sharp", False)), location=location, overrides=overrides,
                             evaluated=evaluated, typed=system if isinstance(system, str) else None,
                             no_spare_policy=policy)


def train_batch(points: Sequence[Mapping[str, Any]]) -> list[Result | BaseException]:
    """`train` of each point (`functions.train_batch` for the estimates, batched; then each point's `with_run`), or
    its error; a batch without run options is `functions.train_batch` itself."""
    from infraplan.sweep.functions import train_batch as estimates

    runs = [{k: p[k] for k in RUN_OPTIONS if p.get(k) is not None} for p in points]
    plain = [{k: v for k, v in p.items() if k not in RUN_OPTIONS or k in _PARAMETERS and v is not None}
             for p in points]  # (`costs: null` too, hI62; the estimate's own `memory_margin` kept: hW73)
    if not any(runs):
        return estimates(plain)
    evaluated: list[tuple[int, int] | BaseException | None] = []
    for point, run in zip(plain, runs, strict=True):
        try:
            evaluated.append(_evaluated(point, run) if run else None)
        except Exception as exc:  # one line before pricing, as `train`
            evaluated.append(exc)
    ready = [i for i, e in enumerate(evaluated) if not isinstance(e, BaseException)]
    priced = dict(zip(ready, estimates([plain[i] for i in ready]), strict=True))
    out: list[Result | BaseException] = []
    for i, (point, run) in enumerate(zip(plain, runs, strict=True)):
        got, e = priced.get(i), evaluated[i]
        if isinstance(e, BaseException) or got is None:
            out.append(e if isinstance(e, BaseException) else RuntimeError("not evaluated"))
            continue
        try:
            out.append(got if isinstance(got, BaseException) or not run else with_run(got, point, run, e))
        except Exception as exc:  # one failing point records its error; the batch goes on
            out.append(exc)
    return out


def search(model: Any, system: Any, gpus: Any, seq_len: Any, global_batch: Any, **options: Any) -> Result:
    """`infraplan search` of one GPU count as a function: `search_plans(...)`, with the best plan's whole run on
    `tokens` where given (module docstring); its signature is `search_plans`' and `SEARCH_RUN_OPTIONS`."""
    given = {k: options.pop(k, None) for k in SEARCH_RUN_OPTIONS}
    if all(v is None for v in given.values()):
        return search_plans(model, system, gpus, seq_len, global_batch, **options)
    from infraplan.catalog.facility_loader import load_location
    from infraplan.cluster.cost import load_cost_overrides
    from infraplan.planning.search_run import run_flags, search_with_run, searched_top
    from infraplan.training.evaluation import eval_options
    from infraplan.training.run_options import check_run_options
    from infraplan.units import parse_tokens

    tokens, location, costs = given["tokens"], given["location"], given["costs"]
    every, samples = given["eval_every"], given["eval_samples"]
    price = server_price_of(given["server_price"])
    evaluated = eval_options(every, samples, tokens, seq_len, global_batch)  # (`RunAsk`'s order: before the search)
    if tokens is not None:
        parse_tokens(tokens, name="--tokens")
        if location is not None:
            load_location(location)
    policy = given["no_spare_policy"]  # search --no-spare-policy
    check_run_options(tokens, location, price, costs, no_spare_policy=policy)
    overrides = load_cost_overrides(costs).merged(server_usd_per_accelerator=price)
    top = options.pop("top", 5)  # (--tokens: the runs of the first searched_top rank them, then --top listed)
    in_order: list[Callable[[Sequence[int]], PlanSearchResult]] = []  # (its answer in the runs' order, hR76)
    result = search_plans(model, system, gpus, seq_len, global_batch, top=searched_top(top, tokens),
                          in_order=in_order, **options)
    return search_with_run(result, model, system, tokens, stack=options.get("stack"),
                           sharp=bool(options.get("sharp", False)), memory_margin=options.get("memory_margin"),
                           location=location, overrides=overrides, evaluated=evaluated,
                           flags=run_flags(tokens, location, price, costs, every, samples, policy),
                           typed=system if isinstance(system, str) else None, optimizer=options.get("optimizer"),
                           no_spare_policy=policy, top=top, in_order=in_order[0])  # (hL75: its lines of its best)


search.__signature__ = run_signature(search_plans, SEARCH_RUN_OPTIONS)  # type: ignore[attr-defined]
