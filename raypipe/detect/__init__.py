"""Face detectors, chosen by name (``detector: {name: dlib-hog, upsample: 1}``)."""

from raypipe.detect.base import Detector, Face
from raypipe.registry import Registry

DETECTORS: Registry[Detector] = Registry(
    "detector",
    {
        "dlib-hog": "raypipe.detect.dlib:DlibHogDetector",
        "dlib-cnn": "raypipe.detect.dlib:DlibCnnDetector",
        "insightface": "raypipe.detect.insightface:InsightFaceDetector",
        "whole-image": "raypipe.detect.whole_image:WholeImageDetector",
        # Crops already aligned (face datasets, a run's exported chips): resized, never re-aligned.
        "aligned": "raypipe.detect.whole_image:AlignedCropDetector",
        "haar": "raypipe.detect.haar:HaarDetector",
        "mtcnn": "raypipe.detect.mtcnn:MtcnnDetector",
        # fr_detect.onnx + fr_landmark.onnx (faceplugin, MIT): fast, 68-point landmarks, no dlib.
        "rfb": "raypipe.detect.rfb:RfbDetector",
        "onnx": "raypipe.detect.onnx_detector:OnnxDetector",
        # Drawn faces: raypipe's own trained detector (shipped; the comic default), nagadomi's
        # LBP cascade by path, or any exported comic-face ONNX model.
        "drawn-faces": "raypipe.detect.drawn:DrawnFaceDetector",
        "anime-cascade": "raypipe.detect.anime:AnimeCascadeDetector",
        "onnx-comic": "raypipe.detect.onnx_detector:OnnxDetector",
        # A bare SCRFD / RetinaFace ONNX file: {name: scrfd, model_path: /models/det_10g.onnx}.
        "scrfd": "raypipe.detect.insightface:InsightFaceDetector",
        "retinaface": "raypipe.detect.insightface:InsightFaceDetector",
    },
)

__all__ = ["DETECTORS", "Detector", "Face"]
