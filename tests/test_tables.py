"""Tables from DOCX, HTML and PDF keep their header with every group of rows; merged cells are expanded."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chunking import chunk_document
from assistant.documents import load_document
from assistant.tables import (
    HEADER_PREFIX,
    ROW_PREFIX,
    Table,
    from_grid,
    parse_table_block,
    pdf_grid,
    text_with_tables_html,
    to_text,
)
from tests.scans import cjk_font_path

ITEMS = [(f"项目{n:02d}", f"{10 + n}%", f"{100 + n}万元") for n in range(40)]
ITEMS[7] = ("软件企业出海保险", "50%", "200万元")


def test_header_repeats_over_every_row_group() -> None:
    table = Table(header=["项目", "补贴比例", "上限"], rows=[list(r) for r in ITEMS], caption="补贴标准")
    text = to_text(table, group_chars=200)
    groups = text.split("\n\n")
    assert len(groups) > 3
    for group in groups:
        lines = group.split("\n")
        assert lines[0] == "【表格】补贴标准"
        assert lines[1] == f"{HEADER_PREFIX}项目 | 补贴比例 | 上限"
        assert all(line.startswith(ROW_PREFIX) for line in lines[2:])
        assert len(group) <= 200
    assert "行：软件企业出海保险 | 补贴比例：50% | 上限：200万元" in text  # a row line alone names its columns
    caption, header, rows = parse_table_block(groups[0]) or ("", [], [])
    assert caption == "补贴标准" and header == ["项目", "补贴比例", "上限"] and rows[0] == ["项目00", "10%", "100万元"]


def test_two_row_header_with_merged_cell_is_combined() -> None:
    grid = [
        ["项目", "补贴标准", "补贴标准"],
        ["项目", "比例", "上限"],
        ["算力券", "30%", "500万元"],
    ]
    table = from_grid(grid)
    assert table is not None
    assert table.header == ["项目", "补贴标准·比例", "补贴标准·上限"]
    assert table.rows == [["算力券", "30%", "500万元"]]
    assert from_grid([["只有一格"]]) is None  # a layout box, not a table


def test_pdf_merged_cells_are_filled() -> None:
    rows: list[list[str | None]] = [
        ["类别", "项目", "比例"],
        ["软件", "首版次软件保险", "50%"],
        [None, "工业软件首购", "35%"],  # 软件 spans two rows
    ]
    assert pdf_grid(rows)[2] == ["软件", "工业软件首购", "35%"]


HTML = """<html><head><meta charset="utf-8"><title>深圳市补贴标准</title></head><body><article>
<h1>深圳市软件产业补贴标准</h1><p>各类项目的补贴标准见下表。</p>
<table><thead><tr><th rowspan="2">项目</th><th colspan="2">补贴标准</th><th rowspan="2">受理部门</th></tr>
<tr><th>补贴比例</th><th>上限</th></tr></thead><tbody>
<tr><td>软件企业出海保险</td><td>50%</td><td>200万元</td><td rowspan="2">市商务局</td></tr>
<tr><td>首版次软件保险</td><td>30%</td><td>100万元</td></tr>
</tbody></table><p>本标准自印发之日起施行。</p></article></body></html>"""


def test_html_table_with_rowspan_and_colspan(tmp_path: Path) -> None:
    path = tmp_path / "sz.html"
    path.write_text(HTML, encoding="utf-8")
    doc = load_document(path, tmp_path)
    assert "表头：项目 | 补贴标准·补贴比例 | 补贴标准·上限 | 受理部门" in doc.text
    assert "行：软件企业出海保险 | 补贴比例：50% | 上限：200万元 | 受理部门：市商务局" in doc.text
    assert "行：首版次软件保险 | 补贴比例：30% | 上限：100万元 | 受理部门：市商务局" in doc.text  # merged cell
    assert "表头：项目 | 补贴标准·补贴比例 | 补贴标准·上限 | 受理部门\n行：软件企业出海保险" in doc.text
    assert "<th>补贴标准·补贴比例</th>" in (text_with_tables_html(doc.text) or "")


def _docx(path: Path, n_rows: int) -> Path:
    import docx

    d = docx.Document()
    d.add_paragraph("广州市软件产业补贴标准")
    d.add_paragraph("各类项目的补贴比例和上限见下表。")
    t = d.add_table(rows=2 + n_rows, cols=3)
    t.cell(0, 0).merge(t.cell(1, 0)).text = "项目"
    t.cell(0, 1).merge(t.cell(0, 2)).text = "补贴标准"
    t.cell(1, 1).text = "补贴比例"
    t.cell(1, 2).text = "上限"
    for r, (item, ratio, cap) in enumerate(ITEMS[:n_rows], start=2):
        t.cell(r, 0).text, t.cell(r, 1).text, t.cell(r, 2).text = item, ratio, cap
    d.add_paragraph("本标准自印发之日起施行。")
    d.save(str(path))
    return path


def test_docx_table_chunks_keep_the_header(tmp_path: Path) -> None:
    doc = load_document(_docx(tmp_path / "gz.docx", 40), tmp_path)
    assert "表头：项目 | 补贴标准·补贴比例 | 补贴标准·上限" in doc.text
    chunks = chunk_document(doc, max_chars=420)
    with_rows = [c for c in chunks if ROW_PREFIX in c.text]
    assert len(with_rows) >= 2
    for chunk in with_rows:
        assert HEADER_PREFIX in chunk.text, chunk.text  # every row travels with its column names
    row = next(c for c in with_rows if "软件企业出海保险" in c.text)
    assert "补贴比例" in row.text and "50%" in row.text


@pytest.mark.skipif(cjk_font_path() is None, reason="needs Debian's fonts-noto-cjk")
def test_pdf_ruled_table(tmp_path: Path) -> None:
    from fpdf import FPDF

    font = str(cjk_font_path())
    pdf = FPDF()
    pdf.add_font("noto", fname=font, collection_font_number=2)
    pdf.add_font("noto", style="B", fname=font, collection_font_number=2)
    pdf.set_font("noto", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 7, "杭州市软件产业补贴标准如下表。", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(60, 30, 40)) as table:
        table.row(["项目", "补贴比例", "上限"])
        for item, ratio, cap in ITEMS[:10]:
            table.row([item, ratio, cap])
    pdf.multi_cell(0, 7, "本标准自印发之日起施行。", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "hz.pdf"
    pdf.output(str(path))
    doc = load_document(path, tmp_path)
    assert "表头：项目 | 补贴比例 | 上限\n行：项目00 | 补贴比例：10% | 上限：100万元" in doc.text
    assert "行：软件企业出海保险 | 补贴比例：50% | 上限：200万元" in doc.text
    assert doc.text.index("补贴标准如下表") < doc.text.index("表头") < doc.text.index("本标准自印发之日起施行")
    assert [p.page for p in doc.pages] == [1]


def test_source_viewer_renders_tables_and_says_when_text_was_recognised() -> None:
    from assistant.types import Passage
    from assistant.web.views import source_card

    text = to_text(Table(header=["项目", "补贴比例"], rows=[["算力券", "30%"], ["软件企业出海保险", "50%"]]))
    start = text.index("行：软件企业出海保险")
    passage = Passage(
        chunk_id="c#1", doc_id="scan", text=text, score=1.0, title="扫描件", pages=[2],
        meta={"ocr": "true", "ocr_confidence": "0.981", "ocr_pages": "1,2", "parent_title": "关于印发扶持办法的通知"},
    )  # fmt: skip
    html = source_card(passage, 1, 0, "zh", span=(start, start + 5))
    assert '<table class="src-table">' in html and "<th>补贴比例</th>" in html
    assert "<tr class=hit><td>软件企业出海保险</td><td>50%</td></tr>" in html
    assert "OCR 识别文本 (0.981)" in html and "《关于印发扶持办法的通知》" in html
    passage.pages = [3]  # a page with a text layer in the same document
    assert "OCR" not in source_card(passage, 1, 0, "zh")
