"""OCR of scanned PDFs and of pictures in DOCX files, with the real bundled RapidOCR models.

Scans are rendered here from text written here (tests/scans.py, Noto CJK from Debian's
fonts-noto-cjk), so nothing is read from ../shared.
"""

from __future__ import annotations

import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from assistant.config import load_settings
from assistant.documents import load_document
from assistant.errors import DocumentError
from assistant.ocr import (
    OCROptions,
    PageCache,
    PageOCR,
    RapidOCREngine,
    content_key,
    garbled_share,
    lines_to_text,
    page_needs_ocr,
)
from tests.scans import PageNumberEngine, cjk_font_path, numbered_scan, render_pages, save_image_pdf, screen_photo

ROOT = Path(__file__).resolve().parent.parent
needs_font = pytest.mark.skipif(cjk_font_path() is None, reason="needs Debian's fonts-noto-cjk")

TEXT = (
    "第一条 为促进软件产业发展，制定本办法。\n"
    "第二条 软件企业出海保险补贴比例为百分之五十。\n"
    "第三条 单个企业年度补贴最高二百万元。"
)


@pytest.fixture(scope="module")
def engine() -> RapidOCREngine:
    return RapidOCREngine()


class CountingEngine:
    """The real engine, counting how many images it was asked to read."""

    name = "counting"

    def __init__(self, inner: RapidOCREngine) -> None:
        self.inner = inner
        self.calls = 0

    def recognise(self, image, orient=False):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.inner.recognise(image, orient)


def scan_pdf(path: Path, texts: list[str], rotate: dict[int, int] | None = None) -> Path:
    images = []
    for n, text in enumerate(texts, start=1):
        img = render_pages(text, dpi=150, pt=16, max_pages=1)[0][0]
        if rotate and n in rotate:
            img = img.rotate(rotate[n], expand=True, fillcolor=255)
        images.append(img)
    return save_image_pdf(images, path, dpi=150)


def squash(text: str) -> str:
    return "".join(text.split())


def test_garbled_text_layer_is_detected() -> None:
    assert garbled_share("软件企业出海保险") == 0.0
    assert garbled_share("\ue000\ue001\ue002 ab") > 0.5  # private-use glyphs from a broken font map
    assert garbled_share("(cid:12)(cid:13)(cid:14)") > 0.5
    assert page_needs_ocr("")
    assert page_needs_ocr(" 3 ", has_image=True)  # only a page number over a scan
    assert not page_needs_ocr(" 3 ", has_image=False)
    assert not page_needs_ocr("第一条 为促进软件产业发展，制定本办法。", has_image=True)


def test_boxes_become_lines_in_reading_order() -> None:
    boxes = [
        ([[300, 10], [500, 10], [500, 40], [300, 40]], "补贴比例", 0.9),
        ([[10, 60], [200, 60], [200, 90], [10, 90]], "第二行", 1.0),
        ([[10, 12], [200, 12], [200, 42], [10, 42]], "第一行", 1.0),
    ]
    text, confidence = lines_to_text(boxes)
    assert text == "第一行 补贴比例\n第二行"
    assert 0.9 < confidence < 1.0


@needs_font
def test_image_only_pdf_is_recognised_page_by_page(tmp_path: Path, engine: RapidOCREngine) -> None:
    pdf = scan_pdf(tmp_path / "scan.pdf", ["第一页 软件企业出海保险补贴比例为百分之五十。", TEXT])
    seen: list[tuple[int, int, str]] = []
    doc = load_document(pdf, tmp_path, ocr=OCROptions(engine=engine, progress=lambda *a: seen.append(a)))
    assert "软件企业出海保险补贴比例为百分之五十" in squash(doc.text)
    assert "单个企业年度补贴最高二百万元" in squash(doc.text)
    assert [p.page for p in doc.pages] == [1, 2]
    first = doc.text[doc.pages[0].start : doc.pages[0].end]
    assert "第一页" in first and "第三条" not in first  # pages keep their numbers
    assert doc.meta["ocr"] == "true" and doc.meta["ocr_pages"] == "1,2"
    assert float(doc.meta["ocr_confidence"]) > 0.9
    assert [s[:2] for s in seen] == [(1, 2), (2, 2)]  # progress page by page


@needs_font
@pytest.mark.parametrize("angle", [90, 180, 270])
def test_turned_page_reads_in_order(tmp_path: Path, engine: RapidOCREngine, angle: int) -> None:
    pdf = scan_pdf(tmp_path / "turned.pdf", [TEXT], rotate={1: angle})
    counting = CountingEngine(engine)
    doc = load_document(pdf, tmp_path, ocr=OCROptions(engine=counting))
    assert counting.calls == 1  # the orientation is found before the page is read, and it is read once
    text = squash(doc.text)
    assert text.index("第一条") < text.index("第二条") < text.index("第三条")
    assert "软件企业出海保险补贴比例" in text


def test_300_page_scan_is_read_one_page_at_a_time(tmp_path: Path) -> None:
    pdf = numbered_scan(tmp_path / "scan-300.pdf", 300)
    engine = PageNumberEngine()
    seen: list[tuple[int, int, str]] = []
    options = OCROptions(engine=engine, dpi=72, cache_dir=tmp_path / "ocr_cache", progress=lambda *a: seen.append(a))
    doc = load_document(pdf, tmp_path, ocr=options)
    assert engine.pages == list(range(1, 301))  # every page, in order, once
    assert engine.most_alive <= 2  # rendered one at a time: never all 300 page images in memory
    assert [s[:2] for s in seen] == [(n, 300) for n in range(1, 301)]  # progress after every page
    assert seen[-1][2] == "scan-300.pdf p.300"
    assert [p.page for p in doc.pages] == list(range(1, 301))
    for span in (doc.pages[0], doc.pages[149], doc.pages[299]):
        assert doc.text[span.start : span.end].startswith(f"第{span.page}页")
    assert doc.meta["ocr_pages"] == ",".join(str(n) for n in range(1, 301))


def test_300_page_scan_resumes_after_a_crash(tmp_path: Path) -> None:
    pdf = numbered_scan(tmp_path / "scan-300.pdf", 300)
    cache_dir = tmp_path / "ocr_cache"
    with pytest.raises(DocumentError, match="OCR failed: RuntimeError: the engine crashed"):
        load_document(pdf, tmp_path, ocr=OCROptions(engine=PageNumberEngine(fail_at_call=151), dpi=72, cache_dir=cache_dir))
    assert len(list((cache_dir / content_key(pdf)).glob("*.json"))) == 150  # each page kept as soon as it was read
    engine = PageNumberEngine()
    seen: list[tuple[int, int, str]] = []
    options = OCROptions(engine=engine, dpi=72, cache_dir=cache_dir, progress=lambda *a: seen.append(a))
    doc = load_document(pdf, tmp_path, ocr=options)
    assert engine.pages == list(range(151, 301))  # only the pages not read before
    assert len(seen) == 300 and len(doc.pages) == 300


LONG_SCAN_RUN = r"""
import json, os, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
import pypdf, pypdfium2  # imported before memory is measured
from assistant.documents import load_document
from assistant.ocr import OCROptions

class Stub:
    name = "stub"
    calls = 0
    def recognise(self, image, orient=False):
        self.calls += 1
        return [([[0, 0], [200, 0], [200, 20], [0, 20]], "软件企业出海保险补贴比例", 0.99)], 0

def rss_mb():
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

rss = {"start": rss_mb()}
def progress(n, total, what):
    if n in (1, 160, total):
        rss[n] = rss_mb()

engine = Stub()
doc = load_document(Path(sys.argv[1]), Path(sys.argv[1]).parent,
                    ocr=OCROptions(engine=engine, dpi=72, cache_dir=Path(sys.argv[2]), progress=progress))
print(json.dumps({"calls": engine.calls, "pages": len(doc.pages), "rss": rss}))
"""


def test_300_page_scan_killed_resumes_with_flat_memory(tmp_path: Path) -> None:
    import json

    import numpy as np
    from PIL import Image

    # ~250 kB of JPEG per page (noise does not compress), 77 MB in all. Measured: reading the text layer grew by
    # 81 MB when pypdf kept the images it read (3.6 MB now), rendering pages 160-300 by 36 MB when PDFium did (3.9 MB).
    noise = (np.random.default_rng(0).random((800, 600)) * 255).astype("uint8")
    pdf = save_image_pdf([Image.fromarray(noise, "L")] * 300, tmp_path / "scan-300.pdf", dpi=200)
    cache_dir = tmp_path / "ocr_cache"
    cmd = [sys.executable, "-c", LONG_SCAN_RUN, str(pdf), str(cache_dir), str(ROOT)]
    env = {**os.environ, "ASSISTANT_FAILPOINTS": "ocr_page:150"}  # SIGKILL right after page 150 is recognised
    killed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr
    assert len(list((cache_dir / content_key(pdf)).glob("*.json"))) == 150
    resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert result["calls"] == 150 and result["pages"] == 300  # only the pages not recognised before the kill
    rss = result["rss"]
    assert rss["1"] - rss["start"] < 25, f"reading the text layer took {rss['1'] - rss['start']:.0f} MB"
    assert rss["300"] - rss["160"] < 15, f"memory grew by {rss['300'] - rss['160']:.0f} MB over 140 rendered pages"


def test_ocr_off_reports_the_scan(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    settings = load_settings(ocr={"enabled": False})
    assert OCROptions.from_settings(settings) is None
    with pytest.raises(DocumentError, match="no text layer — scanned PDF, needs OCR"):
        load_document(path, tmp_path, ocr=OCROptions.from_settings(settings))
    options = OCROptions.from_settings(load_settings(store={"path": tmp_path / "idx"}))
    assert options is not None and options.cache_dir == tmp_path / "idx" / "ocr_cache"


def test_options_from_settings_reach_a_parser_process_and_pick_its_engine() -> None:
    import pickle

    from assistant.ocr import default_engine

    options = OCROptions.from_settings(load_settings(ocr={"threads": 2}))
    assert options is not None and options.threads == 2
    sent = pickle.loads(pickle.dumps(options))  # as assistant.parse_pool sends them: no engine travels along
    assert sent.recogniser() is default_engine(2) and default_engine(2) is not default_engine()
    assert default_engine(None) is default_engine(1)  # one engine (one loaded model) for the default thread count
    stub = CountingEngine(RapidOCREngine())
    assert OCROptions(engine=stub, threads=2).recogniser() is stub


def test_blank_scan_is_reported_with_a_reason(tmp_path: Path, engine: RapidOCREngine) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(200)
    pdf.rect(20, 20, 100, 60, style="F")  # a grey photo: nothing to read
    path = tmp_path / "blank.pdf"
    pdf.output(str(path))
    with pytest.raises(DocumentError, match="OCR recognised no text"):
        load_document(path, tmp_path, ocr=OCROptions(engine=engine))


def test_encrypted_scan_is_reported(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as f:
        writer.write(f)
    with pytest.raises(DocumentError, match="encrypted PDF"):
        load_document(path, tmp_path, ocr=OCROptions())


@needs_font
def test_photo_of_a_screen_is_marked_or_reported_as_low_confidence(tmp_path: Path, engine: RapidOCREngine) -> None:
    page = render_pages(TEXT, dpi=150, pt=16, max_pages=1)[0][0]
    photo = screen_photo(page.crop((0, 0, page.width, page.height // 3)), strength=0.6)
    pdf = save_image_pdf([photo], tmp_path / "photo.pdf", dpi=150)
    doc = load_document(pdf, tmp_path, ocr=OCROptions(engine=engine))  # [ocr] min_confidence 0.5: kept ...
    assert 0.5 <= float(doc.meta["ocr_confidence"]) < 0.9  # ... marked as read poorly (clean scans read >= 0.97)
    low = r"only with low confidence \(0\.\d\d < \[ocr\] min_confidence 0\.95\)"
    with pytest.raises(DocumentError, match=low + ": a photo or a poor scan"):
        load_document(pdf, tmp_path, ocr=OCROptions(engine=engine, min_confidence=0.95))
    docx = _picture_docx(tmp_path / "photo.docx", [photo])
    with pytest.raises(DocumentError, match="holds only images \\(1\\) and OCR read them " + low):
        load_document(docx, tmp_path, ocr=OCROptions(engine=engine, min_confidence=0.95))


def _picture_docx(path: Path, images: list[Any]) -> Path:
    import docx
    from docx.shared import Cm

    d = docx.Document()
    for img in images:
        buf = BytesIO()
        img.save(buf, "PNG")
        buf.seek(0)
        d.add_picture(buf, width=Cm(15))
    d.save(str(path))
    return path


def _image_docx(path: Path, texts: list[str]) -> Path:
    pages = [render_pages(text, dpi=150, pt=16, max_pages=1)[0][0] for text in texts]
    return _picture_docx(path, [img.crop((0, 0, img.width, img.height // 3)) for img in pages])


@needs_font
def test_docx_holding_only_images(tmp_path: Path, engine: RapidOCREngine) -> None:
    path = _image_docx(tmp_path / "attachment.docx", [TEXT])
    with pytest.raises(DocumentError, match="holds only images"):
        load_document(path, tmp_path)  # OCR off
    doc = load_document(path, tmp_path, ocr=OCROptions(engine=engine))
    assert "软件企业出海保险补贴比例为百分之五十" in squash(doc.text)
    assert doc.meta["ocr"] == "true"


def test_page_cache_round_trip(tmp_path: Path) -> None:
    cache = PageCache(tmp_path)
    assert cache.get("k", 1) is None
    cache.put("k", PageOCR(1, "第一条", 0.97, 90))
    assert cache.get("k", 1) == PageOCR(1, "第一条", 0.97, 90)
    (tmp_path / "k" / "2.json").write_text("{broken", encoding="utf-8")
    assert cache.get("k", 2) is None  # a torn file is recognised again, not trusted
    cache.drop("k")
    assert cache.get("k", 1) is None


def test_page_cache_prune_keeps_indexed_and_recently_used_files(tmp_path: Path) -> None:
    cache = PageCache(tmp_path)
    for key in ("indexed", "stale", "used"):
        cache.put(key, PageOCR(1, key, 0.9, 0))
        os.utime(tmp_path / key, (1_000, 1_000))  # written long before this ingest
    assert cache.get("used", 1) is not None  # read by this ingest: marked in use
    assert cache.prune({"indexed"}, before=2_000) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["indexed", "used"]
    assert PageCache(tmp_path / "missing").prune(set(), before=2_000) == 0


@needs_font
def test_ingest_drops_the_pages_of_scans_no_longer_indexed(tmp_path: Path) -> None:
    from assistant.ingest import ingest
    from tests.conftest import make_settings

    folder = tmp_path / "docs"
    folder.mkdir()
    pdf = scan_pdf(folder / "scan.pdf", [TEXT])
    (folder / "note.txt").write_text("第一条 软件企业可以申请出海保险补贴。", encoding="utf-8")
    settings = make_settings(tmp_path / "idx", llm={"backend": "extractive"})
    cache_dir = tmp_path / "idx" / "ocr_cache"
    assert ingest([folder], settings).ok
    key = content_key(pdf)
    assert (cache_dir / key).is_dir()
    PageCache(cache_dir).put("gone", PageOCR(1, "old scan", 0.9, 0))  # pages of a file removed long ago
    os.utime(cache_dir / "gone", (1_000, 1_000))
    assert ingest([folder], settings).ok  # unchanged folder: the indexed scan keeps its pages
    assert sorted(p.name for p in cache_dir.iterdir()) == [key]
    pdf.unlink()
    os.utime(cache_dir / key, (1_000, 1_000))
    report = ingest([folder], settings)
    assert report.removed and not (cache_dir / key).exists()


KILLED_RUN = r"""
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from assistant.documents import load_document
from assistant.ocr import OCROptions
load_document(Path(sys.argv[1]), Path(sys.argv[1]).parent, ocr=OCROptions(cache_dir=Path(sys.argv[2])))
print("finished")
"""


@needs_font
def test_kill_9_mid_ocr_resumes_without_redoing_pages(tmp_path: Path, engine: RapidOCREngine) -> None:
    pages = [f"第{n}页 软件企业出海保险补贴比例为百分之{n}十。" for n in "一二三"]
    pdf = scan_pdf(tmp_path / "long-scan.pdf", pages)
    cache_dir = tmp_path / "ocr_cache"
    env = {**os.environ, "ASSISTANT_FAILPOINTS": "ocr_page:2"}  # SIGKILL right after page 2 is recognised
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(pdf), str(cache_dir), str(ROOT)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == -9 and "finished" not in proc.stdout
    key = content_key(pdf)
    assert sorted(p.name for p in (cache_dir / key).iterdir()) == ["1.json", "2.json"]
    counting = CountingEngine(engine)
    doc = load_document(pdf, tmp_path, ocr=OCROptions(cache_dir=cache_dir, engine=counting))
    assert counting.calls == 1  # only page 3 was read again
    text = squash(doc.text)
    for n in "一二三":
        assert f"第{n}页" in text
