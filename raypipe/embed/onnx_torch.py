"""Run a small ONNX graph with torch: ArcFace-style recognisers and the RFB face detector on
CUDA without onnxruntime-gpu.

Such exports are plain convolutional graphs (Conv, BatchNormalization, PRelu, Add, Flatten,
Gemm, Reshape, the pooling and padding of a DenseNet, and the Shape/Gather/Concat chains of a
detector's heads). :class:`OnnxTorchModule`
executes such a graph node by node with ``torch.nn.functional``, weights (and ``Constant`` nodes)
as tensors on the chosen device; an unsupported operator is refused when the model is loaded,
naming it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv(x, w, b=None, *, pads=(0, 0, 0, 0), strides=(1, 1), dilations=(1, 1), group=1, **_):
    top, left, bottom, right = pads
    if (top, left) != (bottom, right):
        x = F.pad(x, (left, right, top, bottom))
        top = left = 0
    return F.conv2d(x, w, b, stride=tuple(strides), padding=(top, left), dilation=tuple(dilations), groups=group)


def _prelu(x, slope, **_):
    return torch.where(x >= 0, x, x * slope.reshape(1, -1, 1, 1) if slope.dim() <= 1 or slope.shape[0] != 1 else x * slope)


def _batch_norm(x, scale, bias, mean, var, *, epsilon=1e-5, **_):
    return F.batch_norm(x, mean, var, scale, bias, training=False, eps=epsilon)


def _gemm(a, b, c=None, *, alpha=1.0, beta=1.0, transA=0, transB=0, **_):
    a = a.t() if transA else a
    b = b.t() if transB else b
    out = alpha * (a @ b)
    return out + beta * c if c is not None else out


def _pool_args(kernel_shape, strides, pads) -> tuple:
    """torch's (kernel, stride, padding) of a 2-d ONNX pool; asymmetric pads are refused."""
    top, left, bottom, right = pads
    if (top, left) != (bottom, right):
        raise ValueError(f"asymmetric pooling pads {pads} are not supported by the torch backend")
    return tuple(kernel_shape), tuple(strides), (top, left)


def _max_pool(x, *, kernel_shape, strides=(1, 1), pads=(0, 0, 0, 0), **_):
    return F.max_pool2d(x, *_pool_args(kernel_shape, strides, pads))


def _avg_pool(x, *, kernel_shape, strides=(1, 1), pads=(0, 0, 0, 0), count_include_pad=0, **_):
    return F.avg_pool2d(x, *_pool_args(kernel_shape, strides, pads), count_include_pad=bool(count_include_pad))


def _pad(x, *, pads, mode=b"constant", value=0.0, **_):
    """ONNX Pad (opset < 11: pads as an attribute, begins then ends per axis)."""
    half = len(pads) // 2
    widths = [w for axis in reversed(range(half)) for w in (pads[axis], pads[axis + half])]
    return F.pad(x, widths, mode=mode.decode() if isinstance(mode, bytes) else mode, value=value)


def _reshape(x, shape, **_):
    target = [int(v) for v in shape.tolist()]
    target[0] = x.shape[0] if target[0] > 0 else target[0]  # keep the batch dimension dynamic
    return x.reshape(target)


def _flatten(x, *, axis=1, **_):
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


OPS: dict[str, Callable] = {
    "Conv": _conv,
    "PRelu": _prelu,
    "BatchNormalization": _batch_norm,
    "Add": lambda a, b, **_: a + b,
    "Sub": lambda a, b, **_: a - b,
    "Mul": lambda a, b, **_: a * b,
    "Relu": lambda x, **_: F.relu(x),
    "Gemm": _gemm,
    "MatMul": lambda a, b, **_: a @ b,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Identity": lambda x, **_: x,
    "Dropout": lambda x, *rest, **_: x,
    "Transpose": lambda x, *, perm, **_: x.permute(*perm),
    "Concat": lambda *xs, axis, **_: torch.cat(xs, dim=axis),
    "Shape": lambda x, **_: torch.tensor(x.shape, dtype=torch.int64, device=x.device),
    "Gather": lambda x, index, *, axis=0, **_: torch.index_select(x, axis, index.reshape(-1)).reshape(
        x.shape[:axis] + index.shape + x.shape[axis + 1 :]
    ),
    "Unsqueeze": lambda x, *, axes, **_: x.reshape([*x.shape[: axes[0]], 1, *x.shape[axes[0] :]]),
    "Softmax": lambda x, *, axis=1, **_: torch.softmax(x, dim=axis),
    "MaxPool": _max_pool,
    "AveragePool": _avg_pool,
    "GlobalAveragePool": lambda x, **_: x.mean(dim=(2, 3), keepdim=True),
    "Pad": _pad,
}


class OnnxTorchModule(torch.nn.Module):
    """The ONNX model at ``path`` (or an already loaded ``ModelProto``) as a torch module
    (inference only). It returns the graph's first output, or a tuple of all of them when
    ``all_outputs``."""

    def __init__(self, path, all_outputs: bool = False):
        super().__init__()
        import onnx
        from onnx import numpy_helper

        model = onnx.load(path) if isinstance(path, str) else path
        graph = model.graph
        unsupported = sorted({n.op_type for n in graph.node} - set(OPS) - {"Constant"})
        if unsupported:
            raise ValueError(f"{path if isinstance(path, str) else graph.name}: operators {unsupported} "
                             "are not supported by the torch backend")
        constants = {n.output[0]: _attrs(n)["value"] for n in graph.node if n.op_type == "Constant"}
        self._nodes = [(n.op_type, list(n.input), list(n.output), _attrs(n)) for n in graph.node
                       if n.op_type != "Constant"]
        self._names = {}
        tensors = [(init.name, init) for init in graph.initializer] + list(constants.items())
        for i, (name, tensor) in enumerate(tensors):
            self.register_buffer(f"w{i}", torch.from_numpy(numpy_helper.to_array(tensor).copy()))
            self._names[name] = f"w{i}"
        initialised = set(self._names)
        self.input_name = next(i.name for i in graph.input if i.name not in initialised)
        self.output_names = [o.name for o in graph.output] if all_outputs else [graph.output[0].name]
        #: The first operators tell whether the graph normalises its input itself (insightface's rule).
        self.normalises_input = any(n.op_type in ("Sub", "Mul") for n in graph.node[:8])

    @torch.inference_mode()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = {self.input_name: x}
        for op, inputs, outputs, attrs in self._nodes:
            args = [values[n] if n in values else getattr(self, self._names[n]) if n else None for n in inputs]
            values[outputs[0]] = OPS[op](*args, **attrs)
        found = tuple(values[name] for name in self.output_names)
        return found if len(found) > 1 else found[0]
