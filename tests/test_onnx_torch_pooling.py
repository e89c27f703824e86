"""The torch backend runs a DenseNet's pooling and padding as onnxruntime does."""

import numpy as np
import pytest


def _pooling_graph():
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("MaxPool", ["x"], ["m"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Pad", ["m"], ["p"], mode="constant", pads=[0, 0, 1, 2, 0, 0, 3, 0], value=0.5),
        helper.make_node("AveragePool", ["p"], ["a"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["a"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "pooling", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 16, 12])],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)])


def test_torch_backend_pooling_and_padding_match_onnxruntime():
    import onnxruntime as ort
    import torch

    from raypipe.embed.onnx_torch import OnnxTorchModule

    model = _pooling_graph()
    x = np.random.default_rng(0).normal(size=(2, 3, 16, 12)).astype(np.float32)
    expected = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    found = OnnxTorchModule(model, all_outputs=True)(torch.from_numpy(x))
    assert [f.shape for f in found] == [e.shape for e in expected]
    for f, e in zip(found, expected):
        np.testing.assert_allclose(f.numpy(), e, atol=1e-6)


def test_torch_backend_refuses_asymmetric_pooling_pads():
    import torch
    from onnx import TensorProto, helper

    from raypipe.embed.onnx_torch import OnnxTorchModule

    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], pads=[0, 0, 1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])  # fmt: skip
    with pytest.raises(ValueError, match="asymmetric"):
        OnnxTorchModule(helper.make_model(graph))(torch.zeros(1, 1, 4, 4))
