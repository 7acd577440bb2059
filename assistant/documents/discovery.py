"""Which files to load: folders walked, unsupported and unreadable paths reported, document ids."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DocumentError

SUPPORTED = {".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt"}
DOC_TYPES = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
}


def unsupported(suffix: str) -> str:
    """The reason a file with this suffix is not loaded."""
    kind = f"'{suffix}'" if suffix else "(no extension)"
    return f"unsupported file type {kind} (supported: {', '.join(sorted(SUPPORTED))})"


def discover(paths: list[Path]) -> tuple[list[tuple[Path, Path]], list[DocumentError]]:
    """Expand files and folders into sorted (file, root) pairs, plus an error per unusable path.

    Folders are walked recursively, following symbolic links but never twice into the same
    folder. Hidden files and folders, folders starting with "_", README.md files and Word lock
    files (~$*) are skipped. A file given directly has its parent folder as root. A file reached
    twice through symbolic links is loaded once and the other path is reported.
    """
    pairs: list[tuple[Path, Path]] = []
    errors: list[DocumentError] = []
    for given in map(Path, paths):
        if given.is_dir():
            _walk(given, pairs, errors)
        elif given.is_file():
            _add_file(given, given.parent, pairs, errors)
        elif given.is_symlink():
            errors.append(DocumentError(str(given), "broken symbolic link (its target does not exist)"))
        else:
            errors.append(DocumentError(str(given), "does not exist"))
    by_real: dict[str, list[tuple[Path, Path]]] = {}
    for file, root in sorted(set(pairs), key=lambda p: (p[0].as_posix(), p[1].as_posix())):
        by_real.setdefault(os.path.realpath(file), []).append((file, root))
    unique: list[tuple[Path, Path]] = []
    for real, found in by_real.items():
        # Keep the file's own path over a symbolic link to it; report the other ways it was reached.
        keep = next((fr for fr in found if os.path.abspath(fr[0]) == real), found[0])
        unique.append(keep)
        for file, _ in found:
            if file != keep[0]:
                errors.append(
                    DocumentError(str(file), f"same file as {keep[0]} (reached through a symbolic link); skipped")
                )
    unique.sort(key=lambda p: (p[0].as_posix(), p[1].as_posix()))
    errors.sort(key=lambda e: e.path)
    return unique, errors


def _walk(root: Path, pairs: list[tuple[Path, Path]], errors: list[DocumentError]) -> None:
    visited: set[tuple[int, int]] = set()

    def on_error(exc: OSError) -> None:
        errors.append(DocumentError(str(exc.filename or root), f"cannot read folder: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=on_error):
        try:
            st = os.stat(dirpath)
        except OSError as exc:
            on_error(exc)
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in visited:  # a symbolic link back into a folder already walked
            dirnames[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        for name in sorted(filenames):
            if name.startswith((".", "~$")) or name.lower() == "readme.md":
                continue
            _add_file(Path(dirpath) / name, root, pairs, errors)


def _add_file(file: Path, root: Path, pairs: list[tuple[Path, Path]], errors: list[DocumentError]) -> None:
    suffix = file.suffix.lower()
    if not file.is_file():
        errors.append(DocumentError(str(file), "broken symbolic link or not a regular file"))
    elif suffix not in SUPPORTED:
        errors.append(DocumentError(str(file), unsupported(suffix)))
    else:
        pairs.append((file, root))


def doc_id_for(path: Path, root: Path) -> str:
    """The document id: `path` relative to `root`, without its extension, with "/" separators."""
    path, root = Path(path), Path(root)
    try:
        rel = path.relative_to(root)
    except ValueError:
        try:
            rel = path.resolve().relative_to(root.resolve())
        except ValueError:
            rel = Path(path.name)
    return (rel.with_suffix("") if rel.suffix else rel).as_posix()
