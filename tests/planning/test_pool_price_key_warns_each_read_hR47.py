"""hR47 (session 45 review): the old pool price key (`capex_usd`) warns at every file read, not once a process
(planning/pool_price_key.py `_warn`: `warnings.warn` would show a repeated text once under Python's default filter, so
the second read in one web server said nothing). hC48's tests record under pytest's "always" filter, where
`warnings.warn` repeats too, so they pass with either; here the default filter is set."""

from __future__ import annotations

import warnings
from collections.abc import Callable

from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.pool_price_key import OldPriceKeyWarning
from infraplan.planning.scenario_spec import PoolSpec

SPEC = {"services": [{"name": "rank", "kind": "recsys", "model": "dlrm-medium", "qps": 1e6, "latency_slo": 0.02}],
        "pools": [{"name": "h100", "device": "h100-sxm", "capex_usd": 42000}]}


def _old_key_warnings(read: int, validate: Callable[[], object]) -> int:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        for _ in range(read):
            validate()
    return sum(issubclass(w.category, OldPriceKeyWarning) for w in seen)


def test_every_read_of_a_file_with_the_old_key_warns_once() -> None:
    assert _old_key_warnings(3, lambda: FleetSpec.model_validate(SPEC)) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OldPriceKeyWarning)
        assert FleetSpec.model_validate(SPEC).pools[0].price_usd_per_device == 42000


def test_a_pool_read_alone_warns_at_every_read() -> None:
    pool = {"name": "a", "device": "h100-sxm", "site": "s", "capex_usd": 1.0}
    assert _old_key_warnings(2, lambda: PoolSpec.model_validate(pool)) == 2
