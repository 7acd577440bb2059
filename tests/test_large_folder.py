"""A folder as users have it: many regulations, a scan, tables, an attachment file, bad files.

Everything is indexed or reported with a reason; a kill -9 in the middle of OCR is finished by
the next run without recognising the finished pages again; an unchanged folder re-ingests
without reading a file. (bench/ingest_large.py measures the same at 2,000 documents.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.catalog import Catalog
from tests.conftest import REGULATION
from tests.scans import cjk_font_path, render_pages, save_image_pdf

ROOT = Path(__file__).resolve().parent.parent
N_COPIES = 30


def write_folder(d: Path) -> None:
    import docx
    from pypdf import PdfWriter

    for k in range(N_COPIES):  # perturbed copies in nested folders, as a downloaded archive has them
        sub = d / f"batch{k % 3}"
        sub.mkdir(parents=True, exist_ok=True)
        text = REGULATION.replace("800万元", f"{800 + k}万元").replace("示例", f"示例{k}")
        (sub / f"reg-{k:02d}.txt").write_text(text, encoding="utf-8")
    notice = d / "notices"
    notice.mkdir()
    (notice / "软件扶持通知.txt").write_text(
        "广州市关于印发软件产业扶持办法的通知\n第一条 为促进软件产业发展，制定本办法。\n", encoding="utf-8"
    )
    (notice / "软件扶持通知-附件1.txt").write_text(
        "申报指南\n一、申报条件\n在广州市注册的软件企业，上年度营业收入不低于500万元。\n", encoding="utf-8"
    )
    t = docx.Document()
    t.add_paragraph("深圳市软件产业补贴标准")
    table = t.add_table(rows=3, cols=3)
    for r, row in enumerate([["项目", "补贴比例", "上限"], ["软件企业出海保险", "50%", "200万元"], ["算力券", "30%", "500万元"]]):
        for c, v in enumerate(row):
            table.cell(r, c).text = v
    t.save(str(d / "sz-subsidy.docx"))
    pages = [f"第{n}页 杭州市软件企业出海保险补贴比例为百分之{n}十。" for n in "一二三"]
    images = [render_pages(p, dpi=150, pt=16, max_pages=1)[0][0] for p in pages]
    save_image_pdf(images, d / "hz-scan.pdf", dpi=150)
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with (d / "locked.pdf").open("wb") as f:
        writer.write(f)


def run_ingest(folder: Path, index: Path, failpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if failpoint:
        env["ASSISTANT_FAILPOINTS"] = failpoint
    cmd = [sys.executable, "-m", "assistant", "ingest", str(folder), "--index", str(index), "--json"]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, timeout=900)


@pytest.mark.skipif(cjk_font_path() is None, reason="needs Debian's fonts-noto-cjk")
def test_mixed_folder_kill_during_ocr_then_resume_and_reingest(tmp_path: Path) -> None:
    folder, index = tmp_path / "policies", tmp_path / "index"
    write_folder(folder)
    killed = run_ingest(folder, index, failpoint="ocr_page:2")  # SIGKILL after the scan's 2nd page is recognised
    assert killed.returncode == -9, killed.stderr[-800:]
    cached = list((index / "ocr_cache").glob("*/*.json"))
    assert sorted(p.name for p in cached) == ["1.json", "2.json"]
    stamps = {p: p.stat().st_mtime_ns for p in cached}

    rerun = run_ingest(folder, index)
    assert rerun.returncode == 1, rerun.stderr[-800:]  # 1: some files failed (the encrypted one)
    report = json.loads(rerun.stdout)
    failed = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert list(failed) == ["locked.pdf"] and "encrypted" in failed["locked.pdf"]
    assert all(p.stat().st_mtime_ns == stamps[p] for p in cached)  # pages 1-2 were not recognised again
    assert len(list((index / "ocr_cache").glob("*/*.json"))) == 3

    catalog = Catalog(next(index.rglob("*.catalog.sqlite3")))
    docs = {d.doc_id: d for d in catalog.documents()}
    assert len(docs) == N_COPIES + 4
    assert docs["hz-scan"].meta["ocr"] == "true" and docs["hz-scan"].meta["ocr_pages"] == "1,2,3"
    attachment = docs["notices/软件扶持通知-附件1"].meta
    assert attachment["parent_doc_id"] == "notices/软件扶持通知"
    assert attachment["parent_title"] == "广州市关于印发软件产业扶持办法的通知"

    started = time.perf_counter()
    again = run_ingest(folder, index)
    seconds = time.perf_counter() - started
    summary = json.loads(again.stdout)
    assert len(summary["unchanged"]) == N_COPIES + 4 and summary["chunks_embedded"] == 0
    print(f"re-ingest of the unchanged folder: {seconds:.1f} s (process start included)")
