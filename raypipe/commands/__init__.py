"""Sub-commands of the ``raypipe`` CLI, one module each."""
