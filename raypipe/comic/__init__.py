"""Comic and manga pages: archives in reading order, panels, text regions, page splitting.

The pipeline calls :func:`raypipe.comic.split.split_page` once per page; drawn faces are found
with the comic default ``drawn-faces`` (shipped; or ``anime-cascade``, or a generic ONNX
detector) in each panel crop.
"""
