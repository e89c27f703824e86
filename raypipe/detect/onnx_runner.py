"""One ONNX graph run on torch tensors: onnxruntime on the CPU, or the graph executed by torch
(:mod:`raypipe.embed.onnx_torch`) on CUDA, where the tensors stay on the device."""

from __future__ import annotations

from pathlib import Path

import torch

from raypipe.detect.torch_ops import torch_device
from raypipe.registry import ComponentError

BACKENDS = ("auto", "onnxruntime", "torch")


def batch_dynamic(path: str):
    """The ONNX model at ``path`` with a free batch dimension on its inputs and outputs (exports
    often fix it to 1)."""
    import onnx

    model = onnx.load(path)
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].dim_param = "batch"
    return model


class OnnxRunner:
    """Calls an ONNX model (path or ``ModelProto``) on a float tensor, returning its outputs as
    tensors on ``device``. ``backend`` ``auto``: onnxruntime on the CPU, torch on CUDA."""

    def __init__(self, model, device: str | torch.device = "auto", backend: str = "auto"):
        if backend not in BACKENDS:
            raise ComponentError(
                f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}"
            )
        self.device = device if isinstance(device, torch.device) else torch_device(device)
        self.uses_gpu = self.device.type == "cuda"
        self.backend = (
            backend if backend != "auto" else ("torch" if self.uses_gpu else "onnxruntime")
        )
        if self.backend == "onnxruntime" and self.uses_gpu:
            raise ComponentError(
                "the onnxruntime backend runs on the CPU here: use backend=torch on CUDA"
            )
        if isinstance(model, (str, Path)):
            model = batch_dynamic(str(model))
        if self.backend == "torch":
            from raypipe.embed.onnx_torch import OnnxTorchModule

            self._module = OnnxTorchModule(model, all_outputs=True)
            self._module.to(self.device).eval()
        else:
            import onnxruntime as ort

            options = (
                ort.SessionOptions()
            )  # as many threads as torch (Ray: the actor's CPUs), no spinning
            options.intra_op_num_threads = torch.get_num_threads()
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(
                model.SerializeToString(), options, providers=["CPUExecutionProvider"]
            )
            self._input = self._session.get_inputs()[0].name

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.backend == "torch":
            found = self._module(x.float())
            return found if isinstance(found, tuple) else (found,)
        outputs = self._session.run(None, {self._input: x.float().cpu().numpy()})
        return tuple(torch.from_numpy(o).to(self.device) for o in outputs)
