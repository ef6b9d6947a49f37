"""Mutation wave 5 (hM5): the devices `plan`'s MILP buys per (pool, phase) (`planning.scenario._bought`, its
docstring): whole servers (8 H100 each), at least the installed base, and bought hardware stays."""

from __future__ import annotations

import numpy as np

from infraplan.planning.scenario_prices import bought_devices as _bought
from infraplan.planning.scenario_spec import load_scenario


def test_whole_servers_never_fewer_than_the_base_and_what_is_bought_stays() -> None:
    spec = load_scenario("examples/plan-minimal.yaml")  # one pool of H100 servers, 8 devices each
    # 9 devices used: 2 servers = 16; a later phase using none keeps them; 3 used: still the 16 bought
    assert _bought(spec, np.array([[9, 0, 3]])).tolist() == [[16, 16, 16]]
    based = spec.model_copy(update={"pools": [spec.pools[0].model_copy(update={"installed": 20})]})
    # an installed base of 20 is 2 whole servers (16; hL44: the other 4 are not a server); 30 used later: 4
    # servers (32), kept after
    assert _bought(based, np.array([[0, 30, 1]])).tolist() == [[16, 32, 32]]
