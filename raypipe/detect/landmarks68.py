"""68 facial points from ``fr_landmark.onnx`` (64x64 grey crops), reduced to the five ArcFace
points with the iBUG layout rule of :func:`raypipe.align.arcface_points_from_68`."""

from __future__ import annotations

import numpy as np
import torch

from raypipe.align import arcface_points_from_68
from raypipe.detect.onnx_runner import OnnxRunner
from raypipe.detect.torch_ops import crop_and_resize

#: Side of the grey crop the model reads; luma weights of R, G, B.
CROP_SIZE = 64
GREY = (0.299, 0.587, 0.114)
#: The crop cut from an RFB box: its centre moved by these fractions of the box's width and
#: height, its side this fraction of the box's height. RFB boxes run from the hairline to below
#: the chin; the model places points best on a tighter crop centred lower, near dlib's face box
#: (``python bench/landmark_crop.py``: the mean error of the five points against dlib's on the
#: fit identities of LFW, 0.075 of the eye distance with the whole box, 0.033 with this crop).
CROP_SHIFT = (0.04, 0.12)
CROP_SIDE = 0.85


def landmark_crops(
    boxes: torch.Tensor, shift: tuple[float, float] = CROP_SHIFT, side: float = CROP_SIDE
) -> torch.Tensor:
    """The square crops ``(m, 4)`` the model reads for ``(m, 4)`` xyxy detector boxes."""
    size = boxes[:, 2:] - boxes[:, :2]
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2 + size * size.new_tensor(shift)
    half = (size[:, 1:] * side) / 2
    return torch.cat([centre - half, centre + half], dim=1)


class OnnxLandmarker68:
    """The 68-point model: cuts each face's square crop (:func:`landmark_crops`; grey, values /
    256, as its reference ``lib/fr_landmark.js``), predicts points as fractions of the crop, maps
    them to pixels."""

    def __init__(
        self,
        model_path: str,
        device: str | torch.device = "auto",
        backend: str = "auto",
        crop_shift: tuple[float, float] = CROP_SHIFT,
        crop_side: float = CROP_SIDE,
    ):
        self.runner = OnnxRunner(model_path, device, backend)
        self.crop_shift, self.crop_side = tuple(crop_shift), float(crop_side)

    def points68(self, pixels: list[torch.Tensor], boxes: list[torch.Tensor]) -> torch.Tensor:
        """``(m, 68, 2)`` points in image pixels for the boxes of every image, image by image."""
        squares = [landmark_crops(b, self.crop_shift, self.crop_side) for b in boxes]
        crops = torch.cat(
            [crop_and_resize(image, square, CROP_SIZE) for image, square in zip(pixels, squares)]
        )
        squares = torch.cat(squares)
        if not len(squares):
            return squares.new_zeros((0, 68, 2))
        grey = (crops * crops.new_tensor(GREY).reshape(1, 3, 1, 1)).sum(dim=1, keepdim=True)
        (fractions,) = self.runner(grey / 256.0)
        side = (squares[:, 2:] - squares[:, :2])[:, None, :]
        return squares[:, None, :2] + fractions.reshape(-1, 68, 2) * side

    def five_points(
        self, pixels: list[torch.Tensor], boxes: list[torch.Tensor]
    ) -> list[np.ndarray]:
        """``(m_i, 5, 2)`` float32 ArcFace points per image, for the ``(m_i, 4)`` boxes of each."""
        five = arcface_points_from_68(self.points68(pixels, boxes).cpu().numpy())
        return np.split(five, np.cumsum([len(b) for b in boxes])[:-1])
