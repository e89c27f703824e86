"""The research loop on a run: features -> [combine] -> [reduce] -> cluster -> scores -> tables.

Every step writes its output and its config under the run (see :mod:`raypipe.research.store`),
so each configuration's result can be read back and all of them compared in ``RUN/results/``.
"""
