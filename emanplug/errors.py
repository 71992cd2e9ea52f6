"""Errors raised by emanplug for bad user input.

:class:`ConfigError` is raised for anything a user can fix in a config or on the
command line (an unknown scheme, a momentum outside [0, 1], a batch size that
does not fit the scheme).  Its message is one line that names the offending key
and what is allowed; ``tools/train.py`` prints that line instead of a traceback.
"""


class ConfigError(ValueError):
    """A user-facing configuration error with a one-line message."""


def check_count(value, key: str) -> int:
    """Return ``value`` if it is an integer >= 1 (not a bool); raise ConfigError naming ``key``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f'{key}={value!r} is not allowed; allowed: an integer >= 1')
    return value
