"""One face per cluster: the pixel mean of its aligned chips, or a face decoded by a conditional VAE."""

from raypipe.aggregate.mean import mean_face

__all__ = ["mean_face"]
# The VAE lives in raypipe.aggregate.train (imports torch): import it from there.
