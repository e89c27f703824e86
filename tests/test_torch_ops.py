"""Detector pre/post-processing in torch (any device; here the CPU) against the numpy reference:
greedy NMS per image and per group, box crops."""

import numpy as np
import torch

from raypipe.detect.boxes import boxes_overlap, nms
from raypipe.detect.torch_ops import batched_nms, crop_and_resize, grouped_nms


def _random_boxes(rng, shape, span=100):
    corners = rng.uniform(0, span, (*shape, 2))
    return np.concatenate([corners, corners + rng.uniform(5, 40, (*shape, 2))], axis=-1)


def test_batched_torch_nms_keeps_what_numpy_greedy_nms_keeps_per_image():
    rng = np.random.default_rng(0)
    boxes = _random_boxes(rng, (2, 60))
    scores = rng.uniform(0, 1, (2, 60))
    valid = np.ones((2, 60), bool)
    valid[1, 40:] = False  # padding of the second image never suppresses
    keep = batched_nms(
        torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(valid), 0.3
    ).numpy()
    for i in range(2):
        expected = np.flatnonzero(valid[i])[nms(boxes[i][valid[i]], scores[i][valid[i]], 0.3)]
        assert sorted(np.flatnonzero(keep[i])) == sorted(expected)
    assert 5 < keep.sum() < valid.sum()  # suppression did happen, not all dropped


def test_crops_equal_the_pixels_under_a_box_of_the_crop_size():
    image = torch.arange(2 * 30 * 40, dtype=torch.float32).reshape(1, 2, 30, 40)
    (crop,) = crop_and_resize(image, torch.tensor([[5.0, 7.0, 21.0, 23.0]]), 16)
    torch.testing.assert_close(crop, image[0, :, 7:23, 5:21])


def test_grouped_torch_nms_equals_numpy_nms_with_groups_by_iou_and_by_smaller_area():
    rng = np.random.default_rng(1)
    boxes, scores = _random_boxes(rng, (90,), span=30), rng.uniform(0, 1, 90)
    groups = rng.integers(0, 3, 90)
    for by_min in (False, True):
        expected = nms(boxes, scores, 0.4, by_min=by_min, groups=groups)
        keep = grouped_nms(
            torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(groups), 0.4, by_min
        )
        assert sorted(np.flatnonzero(keep.numpy())) == sorted(expected)
        assert 10 < len(expected) < 80  # suppression did happen


def test_crops_read_zero_outside_the_image_and_each_box_sees_its_own_pixels():
    image = torch.arange(1 * 30 * 40, dtype=torch.uint8).reshape(1, 1, 30, 40)
    boxes = torch.tensor([[-4.0, -4.0, 4.0, 4.0], [30.0, 20.0, 38.0, 28.0]])
    corner, inside = crop_and_resize(image, boxes, 8)
    torch.testing.assert_close(
        corner[0, :4], torch.zeros(4, 8), atol=1e-4, rtol=0
    )  # above the image
    torch.testing.assert_close(corner[0, :, :4], torch.zeros(8, 4), atol=1e-4, rtol=0)  # left of it
    torch.testing.assert_close(corner[0, 4:, 4:], image[0, 0, :4, :4].float(), atol=1e-3, rtol=0)
    torch.testing.assert_close(inside[0], image[0, 0, 20:28, 30:38].float(), atol=1e-3, rtol=0)


def test_boxes_overlap_when_they_share_area_not_when_they_only_touch():
    assert boxes_overlap((0, 0, 10, 10), (5, 5, 15, 15))
    assert boxes_overlap((0, 0, 10, 10), (2, 2, 4, 4))  # one inside the other
    assert not boxes_overlap((0, 0, 10, 10), (10, 0, 20, 10))  # a shared edge
    assert not boxes_overlap((0, 0, 10, 10), (0, 11, 10, 20))
