"""Dimensionality reducers, chosen by name (``{name: pca, n_components: 50, whiten: true}``).

Each is a scikit-learn transformer: fitted on the features, then applied to all of them; the
output rows are L2-normalised (``normalize=True``) because clusterers expect unit vectors.
"""

from raypipe.registry import Registry

REDUCERS: Registry = Registry(
    "reducer",
    {
        "none": "raypipe.reduce.linear:Identity",
        "pca": "raypipe.reduce.linear:PCAReducer",
        "umap": "raypipe.reduce.manifold:UMAPReducer",
        "autoencoder": "raypipe.reduce.autoencoder:AutoencoderReducer",
    },
)

__all__ = ["REDUCERS"]
