"""raypipe: face clustering as a Ray batch pipeline."""

__version__ = "0.1.0"
