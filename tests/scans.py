"""Make scanned-looking pages from text we write: tests and bench/ocr.py share this.

Pages are rendered with Debian's Noto CJK font (package fonts-noto-cjk) at a chosen dpi on an
A4 canvas, optionally degraded (noise, blur, small rotation) like a photocopy, and wrapped as
image-only PDFs with Pillow. The text that was drawn is returned so accuracy can be measured.
Long scans for tests of the page loop (`numbered_scan`) are read by a stand-in recogniser
(`PageNumberEngine`) instead of the real models.
"""

from __future__ import annotations

import random
import weakref
from pathlib import Path
from typing import Any

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/noto-cjk"))
FONT_FILES = ("NotoSerifCJK-Regular.ttc", "NotoSansCJK-Regular.ttc")
A4_MM = (210, 297)


def cjk_font_path() -> Path | None:
    """The first Noto CJK collection found, or None (install fonts-noto-cjk)."""
    for folder in FONT_DIRS:
        for name in FONT_FILES:
            if (folder / name).is_file():
                return folder / name
    return None


def _font(size: int, path: Path | None = None) -> Any:
    from PIL import ImageFont

    path = path or cjk_font_path()
    if path is None:
        raise FileNotFoundError("no Noto CJK font: apt-get install fonts-noto-cjk")
    for index in range(10):  # the collection's Simplified Chinese face
        font = ImageFont.truetype(str(path), size, index=index)
        if font.getname()[0].endswith(" SC"):
            return font
    return ImageFont.truetype(str(path), size)


def wrap(text: str, font: Any, width: int) -> list[str]:
    """Break paragraphs into lines no wider than `width` pixels (CJK text breaks anywhere)."""
    lines: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        line = ""
        for ch in para:
            if line and font.getlength(line + ch) > width:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


def render_pages(text: str, *, dpi: int = 200, pt: float = 14, max_pages: int | None = None) -> list[tuple[Any, str]]:
    """Render `text` on A4 pages; returns (PIL image, the text drawn on it, lines joined by newlines)."""
    from PIL import Image, ImageDraw

    w, h = (round(mm / 25.4 * dpi) for mm in A4_MM)
    margin = round(25 / 25.4 * dpi)
    size = round(pt / 72 * dpi)
    font = _font(size)
    step = round(size * 1.6)
    per_page = max(1, (h - 2 * margin) // step)
    lines = wrap(text, font, w - 2 * margin)
    pages: list[tuple[Any, str]] = []
    for first in range(0, len(lines), per_page):
        chunk = lines[first : first + per_page]
        img = Image.new("L", (w, h), 255)
        draw = ImageDraw.Draw(img)
        for n, line in enumerate(chunk):
            draw.text((margin, margin + n * step), line, font=font, fill=0)
        pages.append((img, "\n".join(chunk)))
        if max_pages and len(pages) >= max_pages:
            break
    return pages


def degrade(img: Any, *, seed: int = 0, angle: float = 2.0, noise: float = 0.04, blur: float = 0.8) -> Any:
    """A photocopy: rotated by `angle` degrees, Gaussian blur, salt-and-pepper noise on `noise` of pixels."""
    import numpy as np
    from PIL import Image, ImageFilter

    out = img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    arr = np.asarray(out, dtype=np.int16).copy()
    rng = np.random.default_rng(seed)
    arr += rng.normal(0, 18, arr.shape).astype(np.int16)  # sensor grain
    mask = rng.random(arr.shape)
    arr[mask < noise / 2] = 0
    arr[mask > 1 - noise / 2] = 255
    return Image.fromarray(np.clip(arr, 0, 255).astype("uint8"), "L")


def screen_photo(img: Any, *, strength: float = 0.6, seed: int = 0) -> Any:
    """A phone photo of a page shown on a screen: low contrast, sub-pixel columns, moiré, glare, a perspective
    skew, blur, grain and heavy JPEG compression, all growing with `strength` (about 1: nothing is readable)."""
    from io import BytesIO

    import cv2
    import numpy as np
    from PIL import Image

    a = np.asarray(img.convert("L"), dtype=np.float32) / 255
    h, w = a.shape
    y, x = np.mgrid[0:h, 0:w]
    a = 0.35 + 0.4 * a
    a = a * (1 - 0.25 * strength * ((x % 3) == 0))
    a = a * (1 + 0.35 * strength * np.sin(2 * np.pi * (x * np.cos(0.3) + y * np.sin(0.3)) / 7.3))
    a = a * (1 + 0.5 * strength * np.exp(-(((x - 0.7 * w) / (0.3 * w)) ** 2 + ((y - 0.3 * h) / (0.3 * h)) ** 2)))
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    skewed = np.float32([[0.08 * w, 0.05 * h], [0.95 * w, 0], [w, h], [0.02 * w, 0.9 * h]])
    a = cv2.warpPerspective(np.clip(a, 0, 1), cv2.getPerspectiveTransform(corners, skewed), (w, h), borderValue=0.2)
    a = cv2.GaussianBlur(a, (0, 0), 1.0 + 2.0 * strength)
    a += np.random.default_rng(seed).normal(0, 0.05 * strength, a.shape)
    buf = BytesIO()
    Image.fromarray((np.clip(a, 0, 1) * 255).astype("uint8")).save(buf, "JPEG", quality=30)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def save_image_pdf(images: list[Any], path: Path, dpi: int = 200) -> Path:
    """Wrap page images as an image-only PDF (no text layer), one image per page."""
    rgb = [im.convert("RGB") for im in images]
    rgb[0].save(str(path), "PDF", resolution=float(dpi), save_all=True, append_images=rgb[1:])
    return path


class PageNumberEngine:
    """A stand-in recogniser for tests of the page loop, with no model: page n of a `numbered_scan` is an image
    10 + n pixels wide, and it "reads" the page number from that width. It keeps weak references to the images it
    is given, to count how many page images are alive at once."""

    name = "page-number"

    def __init__(self, fail_at_call: int | None = None) -> None:
        self.pages: list[int] = []
        self.most_alive = 0
        self._images: list[weakref.ref[Any]] = []
        self._fail_at = fail_at_call

    def recognise(self, image: Any, orient: bool = False) -> tuple[list[Any], int]:
        if self._fail_at is not None and len(self.pages) + 1 == self._fail_at:
            raise RuntimeError("the engine crashed")
        self._images = [ref for ref in self._images if ref() is not None] + [weakref.ref(image)]
        self.most_alive = max(self.most_alive, len(self._images))
        page = image.width - 10
        self.pages.append(page)
        return [([[0, 0], [200, 0], [200, 20], [0, 20]], f"第{page}页 软件企业出海保险补贴", 0.99)], 0


def numbered_scan(path: Path, pages: int) -> Path:
    """An image-only PDF of tiny pages (page n: a 10 + n by 16 pixel image at 72 dpi), built in well under a second."""
    from PIL import Image

    images = [Image.new("L", (10 + n, 16), 255) for n in range(1, pages + 1)]
    return save_image_pdf(images, path, dpi=72)


def sample_regulation(seed: int = 0, chars: int = 900) -> str:
    """A regulation-like Chinese text written here (for tests that must not read ../shared)."""
    rng = random.Random(seed)
    subjects = ["县级以上人民政府", "省工业和信息化主管部门", "软件企业", "数据处理者", "科技行政部门", "市场监督管理部门"]
    verbs = ["应当加强", "负责组织实施", "依法保障", "鼓励支持", "统筹推进", "定期公布"]
    objects = [
        "人工智能产业发展规划",
        "公共数据开放目录",
        "软件企业出海保险补贴",
        "集成电路人才培养工作",
        "数字经济核心产业统计",
        "网络安全等级保护制度",
    ]
    parts = ["第一章 总则"]
    n = 1
    while sum(map(len, parts)) < chars:
        cn = "一二三四五六七八九十"[(n - 1) % 10]
        sentence = f"第{cn}条 {rng.choice(subjects)}{rng.choice(verbs)}{rng.choice(objects)}，"
        sentence += f"补贴比例不超过{rng.randint(10, 80)}%，单个项目最高{rng.randint(50, 500)}万元。"
        parts.append(sentence)
        n += 1
    return "\n".join(parts)
