"""The optional per-corpus sidecar, `corpus.meta.csv`, which overrides what is detected in the texts.

Columns (header row required; all but doc_id optional): doc_id, validity (in_force, superseded,
repealed, not_yet_effective, unknown — or the Chinese labels), effective (YYYY-MM-DD), repealed
(YYYY-MM-DD), supersedes (doc_ids separated by ; or |), edition (a label such as 2010年修订).
A declared validity is what the document has today; for other dates validity follows the dates.
A malformed row is reported with its line number and skipped; the other rows still apply.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .dates import from_iso
from .validity import LABELS_ZH, VALIDITIES

SIDECAR_NAME = "corpus.meta.csv"
COLUMNS = ("doc_id", "validity", "effective", "repealed", "supersedes", "edition")
_BY_LABEL = {v: k for k, v in LABELS_ZH.items()}


@dataclass
class SidecarProblem:
    """A row of the sidecar that was not applied, and why."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}, line {self.line}: {self.reason}"


def is_sidecar(path: str | Path) -> bool:
    return Path(path).name.lower() == SIDECAR_NAME


def parse_sidecar(text: str, path: str = SIDECAR_NAME) -> tuple[dict[str, dict[str, str]], list[SidecarProblem]]:
    """Rows by doc_id (only the columns given, validated) and the problems of the rows left out."""
    rows: dict[str, dict[str, str]] = {}
    problems: list[SidecarProblem] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return rows, problems
    except csv.Error as exc:
        return rows, [SidecarProblem(path, 1, f"unreadable header ({exc})")]
    unknown = [h for h in header if h not in COLUMNS]
    if "doc_id" not in header or unknown:
        reason = "the header has no doc_id column" if "doc_id" not in header else f"unknown column(s) {unknown}"
        return rows, [SidecarProblem(path, 1, f"{reason}; expected columns: {', '.join(COLUMNS)}")]
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(SidecarProblem(path, reader.line_num, f"unreadable row ({exc}); skipped"))
            continue
        row_line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(
                SidecarProblem(
                    path, row_line, f"{len(values)} values for {len(header)} columns ({', '.join(header)}); skipped"
                )
            )
            continue
        row = {h: v.strip() for h, v in zip(header, values, strict=True) if v.strip()}
        bad = _check(row)
        if bad:
            problems.append(SidecarProblem(path, row_line, f"{bad}; row skipped"))
            continue
        if "validity" in row:
            row["validity"] = _BY_LABEL.get(row["validity"], row["validity"])
        rows[row["doc_id"]] = row
    return rows, problems


def _check(row: dict[str, str]) -> str | None:
    if not row.get("doc_id"):
        return "empty doc_id"
    validity = row.get("validity")
    if validity and validity not in VALIDITIES and validity not in _BY_LABEL:
        return f"validity '{validity}' is not one of {', '.join(VALIDITIES)}"
    for key in ("effective", "repealed"):
        if key in row and from_iso(row[key]) is None:
            return f"{key} '{row[key]}' is not a date (YYYY-MM-DD)"
    return None


def read_sidecars(roots: list[Path]) -> tuple[dict[str, dict[str, str]], list[SidecarProblem], bool]:
    """Rows of every `corpus.meta.csv` directly under `roots`, their problems, and whether any file was found."""
    rows: dict[str, dict[str, str]] = {}
    problems: list[SidecarProblem] = []
    found = False
    for root in roots:
        file = root / SIDECAR_NAME if root.is_dir() else root
        if not is_sidecar(file) or not file.is_file():
            continue
        found = True
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(SidecarProblem(str(file), 0, f"cannot read ({exc})"))
            continue
        got, bad = parse_sidecar(text, str(file))
        rows.update(got)
        problems.extend(bad)
    return rows, problems, found
