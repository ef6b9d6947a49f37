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
