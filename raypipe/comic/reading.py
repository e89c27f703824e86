"""The reading order of a page's panels: rows top to bottom, columns left to right or (manga)
right to left, recursively."""

from __future__ import annotations

Box = tuple[int, int, int, int]  # x1, y1, x2, y2 (x2, y2 exclusive), page pixels


def reading_order(boxes: list[Box], right_to_left: bool = False) -> list[Box]:
    """``boxes`` in reading order: rows top to bottom, and in each row the columns left to right
    (right to left for manga), each column read the same way, recursively.

    A tall panel beside two stacked ones is one row of two columns: the tall panel, then the
    stacked pair top to bottom.
    """
    return _order(list(boxes), right_to_left, by_rows=True)


def _order(boxes: list[Box], right_to_left: bool, by_rows: bool) -> list[Box]:
    if len(boxes) <= 1:
        return boxes
    bands = _bands(boxes, axis=1 if by_rows else 0)
    if len(bands) == 1:
        if len(_bands(boxes, axis=0 if by_rows else 1)) == 1:  # overlapping both ways: top-down
            return sorted(boxes, key=lambda b: (b[1], -b[2] if right_to_left else b[0]))
        return _order(boxes, right_to_left, not by_rows)
    if right_to_left and not by_rows:
        bands.reverse()
    return [box for band in bands for box in _order(band, right_to_left, not by_rows)]


def _bands(boxes: list[Box], axis: int, overlap: float = 0.3) -> list[list[Box]]:
    """Group boxes into bands along ``axis`` (1: rows, 0: columns), in increasing order.

    A box joins the current band when it overlaps the band's extent by more than ``overlap`` of
    its own length, so slightly slanted gutters still separate bands.
    """
    ordered = sorted(boxes, key=lambda b: (b[axis], b[axis + 2]))
    bands: list[list[Box]] = []
    band_end = None
    for box in ordered:
        start, end = box[axis], box[axis + 2]
        if band_end is not None and band_end - start > overlap * (end - start):
            bands[-1].append(box)
            band_end = max(band_end, end)
        else:
            bands.append([box])
            band_end = end
    return bands
