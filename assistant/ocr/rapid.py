"""The RapidOCR engine (`rapidocr-onnxruntime`): PP-OCRv4 Chinese/English detection and recognition plus a
0°/180° line classifier, all ONNX files inside the wheel, run on the CPU. The model loads on first use, never
at import."""

from __future__ import annotations

import threading
from typing import Any

from ..errors import DocumentError
from .layout import Line


class RapidOCREngine:
    """RapidOCR with its bundled PP-OCRv4 models; loaded lazily, once per process."""

    name = "rapidocr-onnxruntime"

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from rapidocr_onnxruntime import RapidOCR  # type: ignore[import-untyped]
                except ImportError as exc:  # pragma: no cover - it is a dependency
                    raise DocumentError(
                        "", "OCR needs the rapidocr-onnxruntime package (pip install rapidocr-onnxruntime)"
                    ) from exc
                kwargs: dict[str, Any] = {}
                if self._threads:
                    kwargs["intra_op_num_threads"] = self._threads
                self._model = RapidOCR(**kwargs)
            return self._model

    def recognise(self, image: Any, classify: bool = True) -> tuple[list[Line], float]:
        import numpy as np

        model = self._load()
        result, elapsed = model(np.asarray(image.convert("RGB")), use_cls=classify)
        lines = [(box, str(text), float(score)) for box, text, score in (result or [])]
        return lines, float(sum(elapsed or [0.0]))
