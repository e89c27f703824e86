"""The research loop on a run: features -> [combine] -> [reduce] -> cluster -> scores -> tables.

Features are stored in the feature store (:mod:`raypipe.features.store`); each clustering of a
sweep is stored with its configs and metrics (:mod:`raypipe.research.store`), so every
configuration's result can be read back and all of them compared in ``RUN/results/``.
"""
