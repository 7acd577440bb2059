"""The RapidOCR engine (`rapidocr-onnxruntime`): PP-OCRv4 Chinese/English detection and recognition plus a
0°/180° line classifier, all ONNX files inside the wheel, run on the CPU. The model loads on first use, never
at import.

Speed (`bench/ocr.py`, README): text is detected on a copy of the page at most ~1280 pixels long
(lines are still read from the full page), lines are recognised one at a time (batches of lines,
padded to the widest, cost more per line on the CPU), and onnxruntime runs one thread per model
without spinning by default, which costs the least CPU time on cores shared with other jobs.
Which way up a page is, is decided before its lines are read (`recognise(orient=True)`): turned by
90° or 270° from its text boxes running down the page, turned round by a page-wide vote of the
0°/180° line classifier.
"""

from __future__ import annotations

import threading
from typing import Any

from ..errors import DocumentError
from .layout import Line, tall_share

_DET_SIDE = 1280  # text boxes are detected on a copy of the page at most this long (an A4 page at 200 dpi: ~110 dpi)
_DET_MAX_SIDE = 2000  # ... but a large page is not shrunk by more than half, up to this length (RapidOCR's own cap)
_UPSIDE_DOWN_SHARE = 0.6  # a page is turned round when the classifier finds this share of its line pieces upside down
_VOTE_PIECES = 60  # line pieces the classifier looks at per page


class RapidOCREngine:
    """RapidOCR with its bundled PP-OCRv4 models; loaded lazily, once per engine.

    RapidOCR's own pipeline is not called as a whole: detection runs on a smaller copy of the page, lines are
    recognised one at a time from the full page, and the page's orientation is decided before its lines are read
    (`recognise(orient=True)`). Its detector, line classifier and recogniser are used as they are."""

    name = "rapidocr-onnxruntime"

    def __init__(self, threads: int | None = None, det_side: int = _DET_SIDE) -> None:
        self._threads = threads or 1
        self._det_side = det_side
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
                # One line per recognition run: on the bench pages (~30 lines of ~1,100 x 48 pixels) a batch of 6
                # cost ~1.7x more CPU time per line than lines one by one, and a batch of 16 ~4.7x.
                model = RapidOCR(rec_batch_num=1)
                _use_session_options(model, self._threads)
                self._model = model
            return self._model

    def recognise(self, image: Any, orient: bool = False) -> tuple[list[Line], int]:
        import cv2
        import numpy as np

        model = self._load()
        bgr = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)  # the models were trained on BGR
        boxes = self._detect(model, bgr)
        rotation = 0
        if orient and boxes:
            rotation, bgr, boxes = self._orient(model, bgr, boxes)
        if not boxes:
            return [], rotation
        read, _ = model.text_rec(model.get_crop_img_list(bgr, boxes))
        lines = [
            (box.tolist(), str(r[0]), float(r[1]))
            for box, r in zip(boxes, read, strict=True)
            if float(r[1]) >= model.text_score
        ]
        return lines, rotation

    def _detect(self, model: Any, bgr: Any) -> list[Any]:
        """Text boxes (4 corner points, in `bgr`'s pixels), found on a copy at most `det_side` pixels long."""
        import cv2
        import numpy as np

        h, w = bgr.shape[:2]
        side = max(h, w)
        target = min(side, max(self._det_side, min(side // 2, _DET_MAX_SIDE)))
        scale = target / side
        small = bgr
        if scale < 1:
            small = cv2.resize(bgr, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        # A very flat image (one line of text) is padded above and below first, as RapidOCR itself does.
        small, record = model.maybe_add_letterbox(small, {})
        found, _ = model.auto_text_det(small)
        if found is None:
            return []
        boxes = []
        for box in found:
            points = np.array(box, dtype=np.float32)
            points[:, 1] -= record["padding_1"]["top"]
            points /= scale
            points[:, 0] = np.clip(points[:, 0], 0, w - 1)
            points[:, 1] = np.clip(points[:, 1], 0, h - 1)
            boxes.append(points)
        return boxes

    def _orient(self, model: Any, bgr: Any, boxes: list[Any]) -> tuple[int, Any, list[Any]]:
        """The page's rotation, and the page and its boxes turned by it.

        Boxes mostly taller than wide: the page is turned by 90° and looked at again (kept only if its boxes then
        run across). Which way up it is then decides a vote of the 0°/180° line classifier over pieces of the
        page's widest lines (whole lines squeezed into its 192-pixel input are judged less surely)."""
        import numpy as np

        rotation = 0
        if tall_share(boxes) > 0.5:
            turned = np.ascontiguousarray(np.rot90(bgr))  # counter-clockwise, as PIL's rotate(90)
            turned_boxes = self._detect(model, turned)
            if not turned_boxes or tall_share(turned_boxes) > 0.5:
                return 0, bgr, boxes
            rotation, bgr, boxes = 90, turned, turned_boxes
        pieces = []
        for crop in sorted(model.get_crop_img_list(bgr, boxes), key=lambda c: -c.shape[1]):
            step = 4 * crop.shape[0]  # the classifier's input is 48 x 192 pixels
            pieces += [crop[:, k * step : (k + 1) * step] for k in range(min(2, max(1, crop.shape[1] // step)))]
            if len(pieces) >= _VOTE_PIECES:
                break
        _, votes, _ = model.text_cls(pieces)
        down = sum(float(score) for label, score in votes if label == "180")
        total = sum(float(score) for _, score in votes)
        if total and down / total >= _UPSIDE_DOWN_SHARE:
            h, w = bgr.shape[:2]
            bgr = np.ascontiguousarray(bgr[::-1, ::-1])
            # the corner that was bottom-right is now top-left: keep the top-left, top-right, ... order
            boxes = [np.array([[w - 1, h - 1]], dtype=np.float32) - b[[2, 3, 0, 1]] for b in boxes]
            rotation = (rotation + 180) % 360
        return rotation, bgr, boxes


def _use_session_options(model: Any, threads: int) -> None:
    """Replace the onnxruntime sessions RapidOCR made (its options: as many threads as cores, spinning).

    `threads` threads per run, and idle threads sleep instead of spinning (on cores shared with other jobs spinning
    burns CPU time for nothing). The CPU memory arena stays off, as RapidOCR has it: on, it was ~7% faster but the
    process held 740 MB instead of 430 MB after a few pages (lines of every width leave blocks of every size)."""
    import onnxruntime as ort  # type: ignore[import-untyped]
    from rapidocr_onnxruntime.main import DEFAULT_CFG_PATH  # type: ignore[import-untyped]
    from rapidocr_onnxruntime.utils import read_yaml, update_model_path  # type: ignore[import-untyped]

    paths = update_model_path(read_yaml(str(DEFAULT_CFG_PATH)))
    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    for part, holder, attribute in (
        ("Det", model.text_det, "infer"),
        ("Cls", model.text_cls, "infer"),
        ("Rec", model.text_rec, "session"),
    ):
        getattr(holder, attribute).session = ort.InferenceSession(
            paths[part]["model_path"], sess_options=options, providers=["CPUExecutionProvider"]
        )
