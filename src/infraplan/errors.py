"""Errors the user can fix. The CLI prints them as one line on stderr and exits with code 2."""


class InputError(ValueError):
    """Bad input: unknown preset, malformed file, impossible plan. The message is one line."""
