"""The warnings a run raised, for its answer (hJ59).

A warning (a model config's key not modelled, a pool's old price key, a bare electricity price, an accelerator or
stack file named like a preset) was one stderr line on the CLI (cli/main.py `_show_warning`): a pipeline reading
`--json` never saw it, and the web re-derived three of its kinds for its answer (web/runners.py, web/scenarios.py
`read_warnings`, planning/compare.py `vary_warnings`) while missing the others. `raised_warnings` records infraplan's
own warning lines (categories defined under `infraplan.`; a library's, such as a numpy overflow, stays a stderr line
only) in the running thread while the CLI's command (cli/main.py) or a web request (web/runners.py `run`) runs;
`results.with_warnings` puts them in the answer. Imports no pydantic: the CLI's start (tests/cli/test_cli_startup.py).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_RUN = threading.local()
_INFRAPLAN = r"infraplan\."
_SHOWN: list[Callable[..., None]] = [warnings.showwarning]
"""The hook `_record` hands each line to: the one in place when `raised_warnings` installed it."""


def _record(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
            line: str | None = None) -> None:
    """The warning hook while a run records: an infraplan line is kept once (a repeat in the same run is not shown
    again) and handed to the hook in place before (the CLI's stderr line, the server's log)."""
    lines = getattr(_RUN, "lines", None)
    if lines is not None and category.__module__.startswith("infraplan."):
        text = str(message)
        if text in lines:
            return
        lines.append(text)
    _SHOWN[0](message, category, filename, lineno, file, line)


@contextmanager
def raised_warnings() -> Iterator[list[str]]:
    """The infraplan warning lines the running thread raises in the block, each once, in the order raised (the
    list fills as they come). Installs `_record` over the hook in place, and an "always" filter for infraplan's
    modules: the default filter shows a text once per process and code line, so a long-lived server's second request
    with the same file said nothing (a caller restores both: cli.main.main, pytest). Not nested across threads: a
    web job's thread records its own lines."""
    if warnings.showwarning is not _record:
        _SHOWN[0] = warnings.showwarning
        warnings.showwarning = _record
    warnings.filterwarnings("always", module=_INFRAPLAN)  # idempotent: an equal filter is replaced, not added
    outer = getattr(_RUN, "lines", None)
    lines: list[str] = []
    _RUN.lines = lines
    try:
        yield lines
    finally:
        _RUN.lines = outer


def run_warnings() -> list[str]:
    """The lines the running thread's `raised_warnings` block recorded so far (none outside one)."""
    return list(getattr(_RUN, "lines", None) or [])
