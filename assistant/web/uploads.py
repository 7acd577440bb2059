"""Checking and storing uploaded files: allowed types, a size cap, and names that stay inside the upload folder."""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

ALLOWED_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt")
MAX_NAME_CHARS = 120

# Letters of any script (so 广东省办法.pdf keeps its name), digits, and a few separators.
_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


class UploadError(Exception):
    """An upload was refused; `key` and `values` give the reason as UI text (see i18n.TEXT)."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def safe_filename(name: str) -> str:
    """A basename made of safe characters: no folders, no leading dots, no control or shell characters.

    `../../x.pdf` -> `x.pdf`, `C:\\tmp\\a b.txt` -> `a_b.txt`, `广东 办法.PDF` -> `广东_办法.pdf`.
    """
    name = unicodedata.normalize("NFKC", name or "")
    # Both separators count: a Windows browser may send a full path.
    base = PureWindowsPath(PurePosixPath(name.replace("\x00", "")).name).name
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._-") or "upload"
    suffix = _UNSAFE.sub("", suffix).lower()
    stem = stem[: MAX_NAME_CHARS - len(suffix) - 1]
    return f"{stem}.{suffix}" if suffix else stem


def _sniff(path: Path, suffix: str) -> None:
    """Refuse files whose bytes plainly contradict their extension (a renamed binary, a text 'PDF')."""
    with path.open("rb") as f:
        head = f.read(4096)
    if not head:
        raise UploadError("up_empty")
    if suffix == ".pdf" and b"%PDF-" not in head[:1024]:
        raise UploadError("up_content", kind="PDF")
    if suffix == ".docx" and not head.startswith(b"PK\x03\x04"):
        raise UploadError("up_content", kind="DOCX")
    if suffix not in (".pdf", ".docx") and b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UploadError("up_binary")


def check_upload(path: Path, name: str, max_bytes: int) -> str:
    """Validate one uploaded file (given its original `name`); returns the safe name to store it under.

    Raises UploadError with the reason.
    """
    safe = safe_filename(name)
    suffix = Path(safe).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise UploadError("up_type", suffix=suffix or name, allowed=" ".join(ALLOWED_SUFFIXES))
    try:
        size = path.stat().st_size
    except OSError:
        raise UploadError("up_missing") from None
    if size > max_bytes:
        raise UploadError("up_size", size=size / 2**20, mb=max_bytes // 2**20)
    if size == 0:
        raise UploadError("up_empty")
    _sniff(path, suffix)
    return safe


def store_upload(path: Path, upload_dir: Path, max_bytes: int, name: str | None = None) -> Path:
    """Check `path` and copy it into `upload_dir` under a safe version of `name` (default: its own name).

    A later upload with the same name replaces the earlier file, so re-uploading updates the document.
    """
    safe = check_upload(path, name or path.name, max_bytes)
    root = upload_dir.resolve()
    root.mkdir(parents=True, exist_ok=True)
    target = (root / safe).resolve()
    if target.parent != root:  # belt and braces: safe_filename already left no separators
        raise UploadError("up_type", suffix=safe, allowed=" ".join(ALLOWED_SUFFIXES))
    tmp = target.with_name(f".{target.name}.part")
    shutil.copyfile(path, tmp)
    tmp.replace(target)
    return target
