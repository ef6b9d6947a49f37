"""Which whole-run options a training answer can price: the checks `train` and `search` (CLI and web) make before
any plan is priced. A whole run (`planning.search_run`, `planning.training_run`) is priced only with `--tokens`, and
for one GPU count. Kept apart from `planning.search_run` so that `train` without `--tokens` checks its options
without importing the facility and planning layers it does not use (`tests/cli/test_train_startup_hP1.py`)."""

from __future__ import annotations

from infraplan.errors import InputError
from infraplan.limits import check_policy


def check_run_options(tokens: str | None, location: object, server_price: float | None,
                      costs: str | None = None, gpu_counts: int = 1, no_spare_policy: str | None = None) -> None:
    """One line where a whole run's options cannot be priced (`train` and `search`, CLI and web alike): a price option
    (`location`: a preset, file or upload) or a `--no-spare-policy` without `tokens`, or `tokens` for a search over
    several GPU counts."""
    if no_spare_policy is not None:
        check_policy(no_spare_policy)
    if tokens is None:
        if location is not None or server_price is not None or costs is not None:
            raise InputError("--location, --server-price and --costs need --tokens")
        if no_spare_policy is not None:
            raise InputError("--no-spare-policy prices a whole run's wall clock: it needs --tokens")
    elif gpu_counts > 1:
        raise InputError(f"--tokens prices the best plan of one GPU count: give --gpus N, got {gpu_counts} counts")
