"""A pool's price key in the scenario (`plan`, `compare`) and fleet-mix files: `price_usd_per_device`.

A pool's price was written `capex_usd` until 2026-12-04 (hC48, session 45), the name a plan's results give the money
it spends (`capex_usd` per pool, per phase and in total, hL47): one name, two meanings, a price per device in and
money spent out. The input is now `price_usd_per_device` (the price of one device, its server share included: the
cost model's server price per accelerator, cluster/cost.py). The old key is still read, as the new one, for users'
files, with one warning per file read naming its pools; both keys on one pool are refused (one line, exit 2).

The rename is done in the schema (a `mode="before"` validator), so the specs stay frozen and keep refusing unknown
keys: the file-level validator (`ScenarioSpec`, `FleetSpec`) renames every pool's old key and warns once; a pool
validated alone (`PoolSpec(...)`) renames and warns on its own. The web answers with the same line in its result
(`old_price_key_warning`: a plan's and a compare's `warnings`, a fleet-mix's `warnings`), where the CLI prints it on
stderr.
"""

from __future__ import annotations

import warnings
from typing import Any

PRICE_KEY = "price_usd_per_device"
OLD_PRICE_KEY = "capex_usd"
PRICE_DESCRIPTION = ("price of one device, its share of the server included (the cost model's server price per "
                     f"accelerator, cluster/cost.py; at most $1e12, the CLI's --server-price bound); `{OLD_PRICE_KEY}` "
                     "until 2026-12-04 (still read, with a warning)")


class OldPriceKeyWarning(UserWarning):
    """A pool priced with the old key `capex_usd` (read as `price_usd_per_device`)."""


def _line(pools: list[str]) -> str:
    named = ", ".join(repr(p) for p in pools)
    return (f"pool{'s' if len(pools) > 1 else ''} {named}: `{OLD_PRICE_KEY}` is read as `{PRICE_KEY}` (a pool's "
            f"price per device; a plan's `{OLD_PRICE_KEY}` is the money it spends): rename the key")


def _warn(pools: list[str]) -> None:
    """One warning line; `warn_explicit` without a registry shows it at every file read (`warnings.warn` shows a
    repeated text once per process: a second run of the same file in one web server or test said nothing)."""
    warnings.warn_explicit(_line(pools), OldPriceKeyWarning, __file__, 0, module=__name__)


def old_price_key_warning(data: Any) -> str | None:
    """The warning line reading a scenario's or fleet spec's `data` prints (the CLI: `infraplan: warning: ...` on
    stderr), or None where no pool has the old key only: the web puts it in its answer (the warning itself reaches
    only a server's log)."""
    pools = data.get("pools") if isinstance(data, dict) else None
    old = [str(p.get("name", "?")) for p in pools if _old_only(p)] if isinstance(pools, list) else []
    return _line(old) if old else None


def _old_only(pool: Any) -> bool:
    return isinstance(pool, dict) and OLD_PRICE_KEY in pool and PRICE_KEY not in pool


def _renamed(pool: dict[str, Any]) -> dict[str, Any]:
    return {(PRICE_KEY if k == OLD_PRICE_KEY else k): v for k, v in pool.items()}


def pool_price_renamed(data: Any) -> Any:
    """A pool's data with `capex_usd` read as `price_usd_per_device` (a warning); both keys: ValueError (the spec's
    one line)."""
    if isinstance(data, dict) and OLD_PRICE_KEY in data and PRICE_KEY in data:
        raise ValueError(f"give {PRICE_KEY} (the price of one device) or its old name {OLD_PRICE_KEY}, not both")
    if _old_only(data):
        _warn([str(data.get("name", "?"))])
        return _renamed(data)
    return data


def pools_price_renamed(data: Any) -> Any:
    """A scenario's or fleet spec's data with every pool's old key renamed and one warning naming those pools (a
    pool with both keys is left for its own validator to refuse)."""
    pools = data.get("pools") if isinstance(data, dict) else None
    if not isinstance(pools, list) or not any(_old_only(p) for p in pools):
        return data
    _warn([str(p.get("name", "?")) for p in pools if _old_only(p)])
    return {**data, "pools": [_renamed(p) if _old_only(p) else p for p in pools]}
