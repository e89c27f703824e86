"""Errors that the command line reports as usage errors (exit status 2), without a traceback."""


class UsageError(ValueError):
    """The request cannot be carried out as given; the message says what to change."""
