"""HiGHS on the planners' mixed-integer programmes from a known feasible solution (a warm start), the one MILP call
`plan`'s phased programme (planning/phased_mix.py) makes.

`plan` solves the same programme several times at new prices (sized_pricing's fixed point: the constraints stay,
only the costs move) and then with stepped prices (the fixed point's answer is feasible there at its own cost). Each
re-solve starts from the previous answer: HiGHS takes it as its first incumbent (`Highs.setSolution`, HiGHS 1.12
src/Highs.h) and prunes from it, where scipy's `milp` (scipy 1.17.1 optimize/_milp.py:154) has no way to pass one.
Measured on benchmarks/scenario_plan.py's programmes (168-363 columns): the fixed point's re-solves 1.3 -> 0.8 s,
the stepped solves 1.6 -> 0.9, 3.8 -> 2.7, 5.8 -> 2.0 s of CPU (hP27, validation/notes/serving_speed_tried.md).

The start goes in through scipy's bundled HiGHS binding (`scipy.optimize._highspy._core`, scipy >= 1.15; private:
scipy's `milp` itself calls it through optimize/_highspy/_highs_wrapper.py, whose steps `solve_from` repeats: the
same model, matrix by columns, the same options). A solve without a start goes through the same binding, with
HiGHS's heuristics on. Both take `BRANCHING` (hA62's `mip_pscost_minreliable` 2, adopted by hB65 once `plan`'s rows
no longer depended on HiGHS's path: planning/fixed_servers.py): scipy's `milp` does not list that option and warns
("Unrecognized options detected") before handing it over, so it is set on the binding's `HighsOptions`, not passed
to `milp`. Without that binding it is scipy's `milp` with the gap alone (HiGHS's default branching: another path
to the same optimum within MIP_REL_GAP), and so is a solve whose binding fails as it is built or run, or that ends
other than optimal (`milp` gives the status: an infeasible programme is solved twice, once to find it so). A start
outside the rows or bounds (`feasible`) is not handed over.

A lower bound's solve (`solve_bound`, hB72: the phased bounds, phased_mix.solve_phased_bound, and fleet-mix's,
fleet_milp.solve_units) has a safety net: HiGHS's presolve (scipy 1.17.1's HiGHS 1.12) has returned "optimal" with a
dual bound above a feasible point of the bound's programme (hB71: a capex purchase bound with the hull of the packed
IT, seed 71 draw 7: 22,095,551 where a point costs 18,292,080; presolve off found that point), and its branch and
bound has, with presolve on and off (hB72: that hull on hB69's no-base N+k case, 13,378,774.5 "optimal" where a point
costs 13,273,756; HiGHS's `random_seed` 1, 2 or 3 finds it, as hP26's seed-dependent optima). Where the bound comes
out above the objective it bounds (`ceiling`, by more than sized_pricing.BOUND_TOLERANCE) or HiGHS ends other than
optimal, the programme is solved again with presolve off, then (still above) with `RESEEDS` other seeds, until one
is at most the ceiling; the least bound of the optimal solves is taken (an over-estimate is the failure seen), and a
bound still above is the caller's to report (sized_pricing.bound_above_answer: "no proven optimality gap").

That net catches a bound above its answer only; one below the answer but above the programme's least cost was still
reported. Every bound solve therefore runs at `BOUND_OPTIONS` (hK72): HiGHS's `mip_feasibility_tolerance` 1e-9 (its
default 1e-6). Measured on every bound programme of hB72's capex sweeps (68 from seed 71's 50 draws, seed 7's 60,
seed 8's 80, hV55's two and hB72's saved case; 45 more from seed 71 with purchase_windows.IT_HULL off) at HiGHS
seeds 0-3 (0-5): at 1e-6 seed 0 proves 13,378,774.5 on the saved case where a point costs 13,273,756 (0.79 % high;
presolve off: seed 71 draw 14 0.21 % high), at 1e-9 no seed's bound is above the least feasible cost found and the
seeds agree to 6e-13 (2e-7 at 1e-6); CPU 13.9 -> 14.0 s and 17.8 -> 19.5 s over the solves. HiGHS 1.12 prints a debug
line ("HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();", with its output off: capex seed 7
draw 39's bound broke `plan --json`). It is a bare C `puts` (scipy 1.17.1's _core .so: called between the re-solve's
`Highs::passModel` and `Highs::run`, where a postsolved incumbent misses the original rows and HiGHS re-solves the LP
with its integers fixed), so no HiGHS option (output_flag, log_to_console) stops it. Every HiGHS run here is `quiet`:
C's stdio `stdout` on the null device while it runs. Python writes descriptor 1 without C's stdio, so another
thread's output (uvicorn's access log under `infraplan web`) keeps its lines (hK72's first `quiet` sent descriptor 1,
the whole process's stdout, to the null device).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import cache, partial
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp
from scipy.sparse import csc_array

from infraplan.planning.sized_pricing import BOUND_TOLERANCE

try:  # scipy's bundled HiGHS (optimize/_highspy, scipy >= 1.15); absent: every solve is scipy's milp
    from scipy.optimize._highspy import _core as _highs
except ImportError:  # pragma: no cover - the pinned scipy has it
    _highs = None

MIP_REL_GAP = 1e-6  # relative gap for every planning MILP (fleet_milp too); HiGHS's own default is 1e-4
# With a feasible start HiGHS's primal heuristics, which look for incumbents, are switched off: the start is one, and
# the branch and bound (exact to MIP_REL_GAP either way) finds any better. On the benchmark's 7 re-solves from their
# previous answers: 9.1-10.1 s of CPU with the heuristics, 6.0 without RENS and RINS (sub-MIPs), 5.0 without any
# (these options), every objective the same to 2e-15; a solve without a start keeps them (0.9-1.7 -> 0.8-2.3 s off).
NO_HEURISTICS = {"mip_heuristic_run_rens": False, "mip_heuristic_run_rins": False,
                 "mip_heuristic_run_feasibility_jump": False, "mip_heuristic_run_root_reduced_cost": False,
                 "mip_heuristic_run_shifting": False, "mip_heuristic_run_zi_round": False,
                 "mip_heuristic_effort": 0.0}
# HiGHS's reliability threshold for pseudo-cost branching (HiGHS 1.12 `mip_pscost_minreliable`, default 8): 2 trusts a
# variable's pseudo-costs after 2 strong-branching observations. hA62 (session 62): the benchmark's warm solves -5 to
# -15 % of CPU, other optima of the same cost (tied idle room, which planning/fixed_servers.py's rule now settles);
# hB65: the benchmark's `plan` 10.8 / 10.9 / 9.1 -> 9.4 / 9.6 / 9.3 s CPU alternated (load 24-28), every example's
# and the benchmark's plan the same.
BRANCHING = {"mip_pscost_minreliable": 2}
RESEEDS = (1, 2)  # HiGHS random_seed values `sound` tries after presolve off (HiGHS's default seed is 0)
BOUND_OPTIONS: dict[str, Any] = {"mip_feasibility_tolerance": 1e-9}  # every bound's solve (module docstring, hK72)
FEASIBLE_TOLERANCE = 1e-9  # a start's row activity and bounds, relative to max(1, |bound|)


def warm_start_available() -> bool:
    """Whether a start reaches HiGHS (scipy's bundled binding has `setSolution`)."""
    return _highs is not None and hasattr(getattr(_highs, "_Highs", None), "setSolution")


def solve_from(c: np.ndarray, a: np.ndarray, lb: np.ndarray, ub: np.ndarray, var_lb: np.ndarray,
               var_ub: np.ndarray, integrality: np.ndarray, start: np.ndarray | None = None,
               more: dict[str, Any] | None = None) -> Any:
    """min c x subject to lb <= a x <= ub, var_lb <= x <= var_ub, x integer where `integrality` is 1, HiGHS's
    relative gap `MIP_REL_GAP`; `start` (one value per column, or None) is handed to HiGHS as its first incumbent;
    `more`: HiGHS options besides (`BOUND_OPTIONS`; scipy's `milp`, without the binding, runs without them).
    Returns what scipy's `milp` returns: status (0 optimal), x, fun, mip_dual_bound, mip_gap, mip_node_count."""
    if warm_start_available():
        given = start if start is not None and feasible(a, lb, ub, var_lb, var_ub, integrality, start) else None
        try:
            got = _warm_solve(c, a, lb, ub, var_lb, var_ub, integrality, given, more)
        except (AttributeError, TypeError, ValueError, RuntimeError):  # a private binding that moved (pyproject
            got = None  # allows scipy < 2), failing as it is built or as it solves (pybind11: RuntimeError)
        if got is not None:
            return got
    with quiet():
        return milp(c, constraints=LinearConstraint(a, lb, ub), integrality=integrality,
                    bounds=Bounds(var_lb, var_ub), options={"mip_rel_gap": MIP_REL_GAP})


def solve_bound(c: np.ndarray, a: np.ndarray, lb: np.ndarray, ub: np.ndarray, var_lb: np.ndarray,
                var_ub: np.ndarray, integrality: np.ndarray, ceiling: float = np.inf) -> Any:
    """A lower bound's solve: `solve_from` without a start at `BOUND_OPTIONS`, then `sound` (the safety net,
    module docstring)."""
    return sound(solve_from(c, a, lb, ub, var_lb, var_ub, integrality, None, BOUND_OPTIONS),
                 (c, a, lb, ub, var_lb, var_ub, integrality), ceiling)


def proven(res: Any) -> float:
    """The lower bound HiGHS proves on a solved programme: its dual bound, at most its answer's objective."""
    dual = getattr(res, "mip_dual_bound", None)
    return float(res.fun) if dual is None or not np.isfinite(dual) else min(float(res.fun), float(dual))


def sound(res: Any, prog: tuple[np.ndarray, ...], ceiling: float = np.inf) -> Any:
    """`res`, HiGHS's result on the lower bound's programme `prog` (cost, rows, row bounds, column bounds,
    integrality), where it is optimal with a proven bound at most `ceiling` (the objective the bound is below, in the
    programme's own terms, within `BOUND_TOLERANCE`); else the programme solved with presolve off (at `BOUND_OPTIONS`
    through the binding), where that is optimal and lower (module docstring: the safety net), else `res`."""
    limit = ceiling + BOUND_TOLERANCE * abs(ceiling) if np.isfinite(ceiling) else np.inf
    c, a, lb, ub, var_lb, var_ub, integrality = prog
    tries = [partial(_milp_quiet, c, a, lb, ub, var_lb, var_ub, integrality)]
    if warm_start_available():
        variants: list[dict[str, Any]] = [{"presolve": "off"}, *({"random_seed": seed} for seed in RESEEDS)]
        tries = [partial(_warm_solve, c, a, lb, ub, var_lb, var_ub, integrality, None, {**BOUND_OPTIONS, **more})
                 for more in variants]
    best = res
    for attempt in tries:
        if best.status == 0 and best.x is not None and proven(best) <= limit:
            break
        try:
            again = attempt()
        except (AttributeError, TypeError, ValueError, RuntimeError):  # the private binding (`solve_from`)
            continue
        if again is not None and again.status == 0 and again.x is not None and (
                best.status != 0 or best.x is None or proven(again) < proven(best)):
            best = again
    return best


def _warm_solve(c: np.ndarray, a: np.ndarray, lb: np.ndarray, ub: np.ndarray, var_lb: np.ndarray,
                var_ub: np.ndarray, integrality: np.ndarray, start: np.ndarray | None,
                more: dict[str, Any] | None = None) -> Any:
    """`solve_from` through scipy's bundled HiGHS binding with `BRANCHING`, `start` (None: none, the heuristics on)
    set as HiGHS's first incumbent with the heuristics off; None where HiGHS ends other than optimal (`solve_from`
    asks `milp` for the status); `more`: HiGHS options besides (`sound`'s seeds)."""
    h = _highs
    matrix = csc_array(a)
    lp = h.HighsLp()
    lp.num_col_, lp.num_row_ = len(c), len(lb)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = len(c), len(lb)
    lp.a_matrix_.format_ = h.MatrixFormat.kColwise
    lp.col_cost_ = np.asarray(c, dtype=np.float64)
    lp.col_lower_, lp.col_upper_ = np.asarray(var_lb, np.float64), np.asarray(var_ub, np.float64)
    lp.row_lower_, lp.row_upper_ = np.asarray(lb, np.float64), np.asarray(ub, np.float64)
    lp.a_matrix_.start_, lp.a_matrix_.index_ = matrix.indptr, matrix.indices
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.integrality_ = [h.HighsVarType(int(v)) for v in np.asarray(integrality, dtype=np.uint8)]
    solver = h._Highs()
    options = h.HighsOptions()
    options.log_to_console = False
    options.mip_rel_gap = MIP_REL_GAP
    for name, value in {**BRANCHING, **(NO_HEURISTICS if start is not None else {}), **(more or {})}.items():
        setattr(options, name, value)
    solver.passOptions(options)
    solver.passModel(lp)
    if start is not None:
        given = h.HighsSolution()
        given.col_value = [float(v) for v in start]
        given.value_valid = True
        solver.setSolution(given)
    with quiet():
        solver.run()
    status = solver.getModelStatus()
    if status != h.HighsModelStatus.kOptimal:  # not with a feasible start in hand: `milp` says what it is
        return None
    info = solver.getInfo()
    return OptimizeResult(status=0, success=True, x=np.array(solver.getSolution().col_value),
                          fun=info.objective_function_value, mip_dual_bound=info.mip_dual_bound,
                          mip_gap=info.mip_gap, mip_node_count=info.mip_node_count,
                          message=solver.modelStatusToString(status))


def _milp_quiet(c: np.ndarray, a: np.ndarray, lb: np.ndarray, ub: np.ndarray, var_lb: np.ndarray,
                var_ub: np.ndarray, integrality: np.ndarray) -> Any:
    """scipy's `milp` with presolve off, `quiet` (the net's try without the binding)."""
    with quiet():
        return milp(c, constraints=LinearConstraint(a, lb, ub), integrality=integrality,
                    bounds=Bounds(var_lb, var_ub), options={"mip_rel_gap": MIP_REL_GAP, "presolve": False})


_QUIET_LOCK = threading.Lock()
_quiet_state: list[Any] = [0, None]  # [solves inside, what to undo as the last one leaves (None: nothing)]
C_STDOUT_NAMES = ("stdout", "__stdoutp")  # C's stdout FILE pointer: glibc / musl, macOS / BSD libc


@contextmanager
def quiet() -> Iterator[None]:
    """C's stdio `stdout` on the null device while HiGHS runs (module docstring: its debug line is a `puts`). Python
    writes to descriptor 1 itself, not through C's stdio, so another thread's print, log line or uvicorn's access log
    keeps going to stdout meanwhile. Where C's `stdout` pointer cannot be reached (Windows' C runtime), descriptor 1
    goes to the null device instead, only while no other Python thread is alive (else nothing is silenced: HiGHS's
    line may then reach stdout). Nested and concurrent solves share one silencing: the first in sets it, the last out
    undoes it (C's stdio flushed first, so a line HiGHS buffered goes to the null device)."""
    with _QUIET_LOCK:
        if _quiet_state[0] == 0:
            _quiet_state[1] = _silence_c_stdout() or _silence_descriptor()
        _quiet_state[0] += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_state[0] -= 1
            if _quiet_state[0] == 0 and _quiet_state[1] is not None:
                undo, _quiet_state[1] = _quiet_state[1], None
                undo()


@cache
def _libc() -> Any:
    """The process's C library through ctypes, None where it does not load by name (Windows)."""
    try:
        libc = ctypes.CDLL(None)
    except (OSError, TypeError):
        return None
    libc.fopen.restype, libc.fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
    libc.fflush.argtypes = [ctypes.c_void_p]
    return libc


@cache
def _c_null() -> int:
    """One C stream on the null device for the process (never closed: a thread's C write may still hold it as the
    pointer goes back), 0 where it cannot be opened."""
    libc = _libc()
    return (libc.fopen(os.devnull.encode(), b"w") or 0) if libc is not None else 0


def _silence_c_stdout() -> Callable[[], None] | None:
    """C's `stdout` FILE pointer set to the null device's stream; the undo (flush it, put the pointer back), or None
    where the C library or its `stdout` symbol is not reachable."""
    libc, pointer = _libc(), None
    for name in C_STDOUT_NAMES if libc is not None else ():
        with suppress(ValueError):
            pointer = ctypes.c_void_p.in_dll(libc, name)
            break
    null = _c_null() if pointer is not None and pointer.value else 0
    if not null or pointer is None:
        return None
    saved = pointer.value

    def undo() -> None:
        libc.fflush(null)
        pointer.value = saved

    pointer.value = null
    return undo


def _silence_descriptor() -> Callable[[], None] | None:
    """Descriptor 1 on the null device where no other thread is alive (it is the process's, every thread's); the undo
    (C's stdio flushed, descriptor 1 restored), or None."""
    if threading.active_count() > 1:
        return None
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no descriptor 1, or a stdout without flush
        return None
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)

    def undo() -> None:
        libc = _libc()
        if libc is not None:
            libc.fflush(None)
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)

    return undo


def feasible(a: np.ndarray, lb: np.ndarray, ub: np.ndarray, var_lb: np.ndarray, var_ub: np.ndarray,
             integrality: np.ndarray, x: np.ndarray) -> bool:
    """Whether `x` satisfies the rows, the bounds and the integrality (within `FEASIBLE_TOLERANCE`)."""
    x = np.asarray(x, dtype=float)
    if x.shape != (a.shape[1],) or not np.all(np.isfinite(x)):
        return False

    def within(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> bool:
        slack_lo = FEASIBLE_TOLERANCE * np.maximum(1.0, np.abs(np.where(np.isfinite(lo), lo, 0.0)))
        slack_hi = FEASIBLE_TOLERANCE * np.maximum(1.0, np.abs(np.where(np.isfinite(hi), hi, 0.0)))
        return bool(np.all(v >= lo - slack_lo) and np.all(v <= hi + slack_hi))

    whole = np.asarray(integrality) > 0
    return (within(a @ x, np.asarray(lb, float), np.asarray(ub, float))
            and within(x, np.asarray(var_lb, float), np.asarray(var_ub, float))
            and bool(np.all(x[whole] == np.round(x[whole]))))
