"""Errors the user can fix. The CLI prints them as one line on stderr and exits with code 2."""


class InputError(ValueError):
    """Bad input: unknown preset, malformed file, impossible plan. The message is one line."""


def close_names(ref: str, names: list[str], n: int = 3) -> list[str]:
    """The did-you-mean of an unknown name: the names that extend it first ('h100' -> h100-sxm; difflib alone put
    h800 and h200 before it, hU47), then difflib's closest (ratio >= 0.5), at most `n`."""
    import difflib

    first = sorted(x for x in names if x.startswith(ref)) if ref else []
    rest = [x for x in difflib.get_close_matches(ref, names, n=n, cutoff=0.5) if x not in first]
    return [*first, *rest][:n]


def wrong_kind(name: str, takes: str, value: object) -> InputError:
    """The one line for a Python caller's argument of a kind the public API does not take (`load_model(None)` was an
    AttributeError from deep inside, `plan_campus("100MW", ...)` a TypeError, `compare_scenarios("a.yaml")` read the
    text as a list of one-letter paths; hK66), worded as a sweep spec's (`sweep.functions.check_argument_kinds`)."""
    shown = (repr(value) if isinstance(value, str) else str(value))[:60]
    return InputError(f"{name} takes {takes}, got {shown} ({type(value).__name__})")
