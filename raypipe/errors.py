"""Errors that the command line reports as usage errors (exit status 2), without a traceback."""

from raypipe.config import ConfigError
from raypipe.registry import ComponentError


class UsageError(ValueError):
    """The request cannot be carried out as given; the message says what to change."""


#: What a user can fix (a bad request, setting or component, a missing file): one line each.
USER_ERRORS = (UsageError, ConfigError, ComponentError, FileNotFoundError)
