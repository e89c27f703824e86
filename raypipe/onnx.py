"""onnxruntime execution providers: CUDA when asked for (or ``auto``) and present, else CPU."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def onnx_providers(device: str = "auto") -> list[str]:
    """Providers for ``device`` in {auto, cpu, cuda}; ``auto`` falls back to CPU with a log line."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "cuda":
        raise RuntimeError(
            f"device=cuda asked for, but onnxruntime has no CUDA provider (has {available}); "
            "pip install onnxruntime-gpu"
        )
    log.debug("onnxruntime: no CUDA provider, running on CPU")
    return ["CPUExecutionProvider"]
