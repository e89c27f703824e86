"""The torch device helper and the one training loop shared by the CVAE, the encoders and the autoencoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from raypipe.devices import torch_device
from raypipe.errors import UsageError
from raypipe.reduce.autoencoder import AutoencoderReducer
from raypipe.training import train_epochs


def test_auto_and_cpu_devices_and_a_clear_error_for_an_absent_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert torch_device("auto") == torch_device("cpu") == torch.device("cpu")
    with pytest.raises(UsageError, match="'cuda:1' asked for, but torch sees no GPU"):
        torch_device("cuda:1")
    with pytest.raises(UsageError, match="unknown device 'gpu'"):
        torch_device("gpu")


def test_a_gpu_index_beyond_the_gpus_present_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert torch_device("auto") == torch.device("cuda") and torch_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(UsageError, match="sees 1 GPU"):
        torch_device("cuda:1")


def test_the_loop_lowers_the_loss_and_returns_one_value_per_epoch():
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([1.0, -2.0, 0.5])
    weights = torch.zeros(3, requires_grad=True)
    optimiser = torch.optim.SGD([weights], lr=0.1)
    seen = []

    def step(batch):
        seen.append(len(batch))
        return ((x[batch] @ weights - y[batch]) ** 2).mean()

    history = train_epochs(step, len(x), optimiser, epochs=5, batch_size=30, min_batch=5)
    assert len(history) == 5 and history[-1] < history[0] / 10
    assert set(seen) == {30}  # the 4-row remainder of each epoch is below min_batch: skipped


def test_the_loop_stops_at_the_time_limit():
    weights = torch.zeros(1, requires_grad=True)
    history = train_epochs(lambda b: (weights - 1).pow(2).sum(), 8, torch.optim.SGD([weights], lr=0.1),
                           epochs=1000, batch_size=4, max_seconds=0.0)  # fmt: skip
    assert len(history) == 1


def test_the_autoencoder_trains_through_the_loop_on_the_device_asked_for():
    X = np.random.default_rng(0).normal(size=(200, 8)).astype(np.float32)
    reducer = AutoencoderReducer(n_components=2, hidden=16, epochs=20, device="cpu").fit(X)
    assert len(reducer.losses_) == 20 and reducer.losses_[-1] < reducer.losses_[0]
    assert next(reducer.encoder_.parameters()).device == torch.device("cpu")
