"""Train the conditional VAE on a run's chips and write one decoded face per cluster."""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from PIL import Image

from raypipe import storage
from raypipe.aggregate.cvae import ConditionalVAE, check_image_size, vae_loss
from raypipe.aggregate.mean import load_chip
from raypipe.aggregate.settings import AggregateSettings
from raypipe.chips import ChipStore
from raypipe.devices import torch_device
from raypipe.layout import RunLayout, atomic_write_bytes
from raypipe.training import train_epochs

log = logging.getLogger(__name__)


@dataclass
class AggregateResult:
    clusters: int
    faces: int
    epochs: int
    image_size: int
    device: str
    first_loss: float
    final_loss: float
    seconds: float
    losses: list[float] = field(default_factory=list)


def training_faces(layout: RunLayout, max_per_cluster: int, seed: int) -> pd.DataFrame:
    """Clustered faces whose chip exists, at most ``max_per_cluster`` per cluster."""
    if not layout.clusters.exists():
        raise FileNotFoundError(f"{layout.clusters} not found: run `raypipe cluster` first")
    faces = storage.read_csv(layout.clusters, usecols=["face_id", "cluster"])
    faces = faces[(faces.cluster >= 0).to_numpy() & ChipStore(layout).available(faces.face_id)]
    return faces.sample(frac=1.0, random_state=seed).groupby("cluster").head(max_per_cluster)


def load_images(layout: RunLayout, face_ids: list[str], size: int) -> torch.Tensor:
    """Chips as a float tensor (N, 3, size, size) in [0, 1]."""
    chips = ChipStore(layout).read(face_ids)
    pixels = np.stack([load_chip(chips[face_id], size) for face_id in face_ids])
    return torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div(255)


def train(
    model: ConditionalVAE,
    images: torch.Tensor,
    clusters: torch.Tensor,
    settings: AggregateSettings,
    device: torch.device,
) -> list[float]:
    """Adam on the VAE loss with random horizontal flips; the mean loss of each epoch."""
    model.to(device).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=settings.learning_rate)
    generator = torch.Generator().manual_seed(settings.seed)

    def step(batch: torch.Tensor) -> torch.Tensor:
        x, c = images[batch].to(device), clusters[batch].to(device)
        flip = torch.rand(len(batch), generator=generator) < 0.5
        x[flip.to(device)] = x[flip.to(device)].flip(-1)
        reconstruction, mean, log_var = model(x, c)
        return vae_loss(reconstruction, x, mean, log_var, settings.beta)

    return train_epochs(step, len(images), optimiser, epochs=settings.epochs,
                        batch_size=settings.batch_size, generator=generator, name="cvae")  # fmt: skip


def write_faces(layout: RunLayout, faces: torch.Tensor, cluster_ids: np.ndarray) -> None:
    """``RUN/aggregate/<cluster>.png``, replacing the faces of an earlier clustering."""
    for stale in layout.aggregate.glob("*.png") if layout.aggregate.exists() else []:
        stale.unlink()
    pixels = faces.mul(255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    for cluster, image in zip(cluster_ids, pixels):
        png = io.BytesIO()
        Image.fromarray(image).save(png, format="PNG")
        atomic_write_bytes(layout.aggregate / f"{cluster}.png", png.getvalue())


def aggregate_run(run: str, settings: AggregateSettings | None = None) -> AggregateResult:
    """Train on the run's clustered chips; write one decoded face per cluster."""
    settings = settings or AggregateSettings()
    check_image_size(settings.image_size)
    if settings.epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {settings.epochs}")
    started = time.perf_counter()
    layout = RunLayout.at(run)
    device = torch_device(settings.device)
    torch.manual_seed(settings.seed)
    faces = training_faces(layout, settings.max_per_cluster, settings.seed)
    if faces.empty:
        raise FileNotFoundError(f"{layout.clusters} has no clustered face with a chip")
    cluster_ids, indices = np.unique(faces.cluster.to_numpy(), return_inverse=True)
    log.info("training a conditional VAE on %d chips of %d clusters at %d px on %s for %d epochs",
             len(faces), len(cluster_ids), settings.image_size, device, settings.epochs)  # fmt: skip
    images = load_images(layout, faces.face_id.tolist(), settings.image_size)
    model = ConditionalVAE(len(cluster_ids), settings.image_size)
    losses = train(model, images, torch.from_numpy(indices), settings, device)
    model.eval()
    write_faces(layout, model.aggregate(torch.arange(len(cluster_ids), device=device)), cluster_ids)
    return AggregateResult(
        clusters=len(cluster_ids), faces=len(faces), epochs=settings.epochs, image_size=settings.image_size,
        device=str(device), first_loss=losses[0], final_loss=losses[-1],
        seconds=time.perf_counter() - started, losses=losses,
    )  # fmt: skip
