"""Parsing in worker processes: the same index as parsing in the ingest process, bad and crashing
files reported per file, OCR progress relayed, no model loaded in a worker."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.errors import DocumentError
from assistant.index import open_index
from assistant.ingest import ingest
from assistant.ocr import OCROptions
from assistant.parse_pool import CRASHED, ParseJob, ParseSetup, PoolParser, open_parser

from . import parse_tasks
from .conftest import CORPUS, REGULATION, make_settings

NOTICE = "广州市关于印发软件产业扶持办法的通知\n第一条 为促进软件产业发展，制定本办法。\n"
ATTACHMENT = "申报指南\n一、申报条件\n在广州市注册的软件企业，上年度营业收入不低于500万元。\n"


def index_contents(settings) -> dict:
    """Every document's status, title and metadata, and its chunks (id, text, section, pages); the vector ids."""
    idx = open_index(settings)
    try:
        docs = {
            d.doc_id: (d.status, d.title, d.meta, [(c.chunk.chunk_id, c.chunk.text, c.chunk.section, c.chunk.pages)
                                                   for c in idx.catalog.doc_chunks(d.doc_id)])
            for d in idx.catalog.documents()
        }
        return {"docs": docs, "vectors": sorted(idx.store.all_ids())}
    finally:
        idx.close()


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample corpus (PDF, DOCX, HTML, Markdown, text), a notice with its attachment file, a corrupt PDF."""
    folder = tmp_path_factory.mktemp("mixed") / "docs"
    shutil.copytree(CORPUS, folder, ignore=shutil.ignore_patterns("_build", "README.md"))
    (folder / "notices").mkdir()
    (folder / "notices" / "软件扶持通知.txt").write_text(NOTICE, encoding="utf-8")
    (folder / "notices" / "软件扶持通知-附件1.txt").write_text(ATTACHMENT, encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf \x00\x01\x02")
    return folder


def test_workers_build_the_same_index_as_parsing_in_process(mixed_folder: Path, tmp_path: Path) -> None:
    inline = ingest([mixed_folder], make_settings(tmp_path / "inline", ingest={"workers": 0}))
    pooled_settings = make_settings(tmp_path / "pooled", ingest={"workers": 2})
    pooled = ingest([mixed_folder], pooled_settings)
    # The corrupt file is reported with the same reason, and everything else is indexed.
    assert pooled.failed == inline.failed
    [(path, reason)] = pooled.failed
    assert Path(path).name == "broken.pdf" and "PDF" in reason
    assert pooled.added == inline.added and len(pooled.added) == 10
    assert index_contents(pooled_settings) == index_contents(make_settings(tmp_path / "inline"))
    attachment = index_contents(pooled_settings)["docs"]["notices/软件扶持通知-附件1"][2]
    assert attachment["parent_title"] == "广州市关于印发软件产业扶持办法的通知"  # the parent's title reached it
    # An unchanged folder is not parsed again.
    again = ingest([mixed_folder], pooled_settings)
    assert len(again.unchanged) == 10 and again.chunks_embedded == 0 and again.failed == inline.failed


def jobs_for(folder: Path, names: list[str]) -> list[ParseJob]:
    for name in names:
        (folder / name).write_text(REGULATION.replace("示例", name), encoding="utf-8")
    return [ParseJob(n, folder / name, folder) for n, name in enumerate(names)]


def test_a_worker_killed_by_a_file_fails_that_file_only(tmp_path: Path) -> None:
    names = ["a.txt", "crash1.txt", "b.txt", "c.txt", "crash2.txt", "d.txt"]
    jobs = jobs_for(tmp_path, names)
    parser = PoolParser(jobs, 2, ParseSetup(None, None, len(jobs), parse_tasks.crash_on_crash_files))
    try:
        outcomes = []
        for job in jobs:
            try:
                doc, _ = parser.take(job)
                outcomes.append(doc.doc_id)
            except DocumentError as exc:
                outcomes.append(exc.reason)
    finally:
        parser.close()
    assert outcomes == ["a", CRASHED, "b", "c", CRASHED, "d"]


def test_workers_load_no_model(tmp_path: Path) -> None:
    jobs = jobs_for(tmp_path, ["a.txt", "b.txt"])
    parser = open_parser(jobs, 2, ParseSetup(OCROptions(), None, 2, parse_tasks.with_loaded_modules))
    try:
        assert isinstance(parser, PoolParser)
        assert [parser.take(job)[0].meta["loaded"] for job in jobs] == ["", ""]
    finally:
        parser.close()


def test_ocr_page_progress_is_relayed_and_files_report_their_place(tmp_path: Path) -> None:
    jobs = jobs_for(tmp_path, ["a.txt", "scan.txt"])
    seen: list[tuple[int, int, str]] = []
    setup = ParseSetup(OCROptions(), lambda *args: seen.append(args), 2, parse_tasks.with_ocr_progress)
    parser = open_parser(jobs, 1, setup)
    try:
        for job in jobs:
            parser.take(job)
    finally:
        parser.close()
    assert "scan.txt p.2 (OCR 2/2)" in {what for _, _, what in seen}
    assert all(total == 2 for _, total, _ in seen)


def test_one_file_is_parsed_in_process(tmp_path: Path) -> None:
    """Starting a process costs more than it saves for a single file (an upload)."""
    assert not isinstance(open_parser(jobs_for(tmp_path, ["a.txt"]), 2, ParseSetup(None, None, 1)), PoolParser)
    assert not isinstance(open_parser(jobs_for(tmp_path, ["a.txt", "b.txt"]), 0, ParseSetup(None, None, 2)), PoolParser)
