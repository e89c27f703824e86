"""Learned face features: a small CNN trained self-supervised (SimCLR) or with labels (metric)."""
