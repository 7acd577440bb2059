"""Loading every supported format, metadata detection, and a clear DocumentError for every bad file."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import pytest

from assistant.documents import (
    SUPPORTED,
    clean_title,
    detect_meta,
    discover,
    doc_id_for,
    load_document,
)
from assistant.documents.pdf import clean_pdf_text
from assistant.errors import DocumentError

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

NOTICE = """广东省人民政府办公厅关于印发《广东省数字经济促进方案》的通知
粤府办〔2024〕12号

各地级以上市人民政府，省政府各部门、各直属机构：
《广东省数字经济促进方案》已经省人民政府同意，现印发给你们，请认真组织实施。

一、总体要求
到２０２５年，数字经济核心产业增加值占比明显提升。
（一）加强基础设施建设。推进５Ｇ网络覆盖。

广东省人民政府办公厅
2024年3月18日
"""


def load(path: Path) -> object:
    return load_document(path, path.parent)


def reason_of(path: Path) -> str:
    with pytest.raises(DocumentError) as info:
        load_document(path, path.parent)
    assert info.value.path == str(path)
    return info.value.reason


# ----- plain text -----


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "utf-8-sig", "gb18030", "utf-16"])
def test_text_encodings_decode_to_the_same_text(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "notice.txt"
    path.write_bytes(NOTICE.encode(encoding))
    doc = load(path)
    assert doc.text == NOTICE.strip()
    assert not doc.text.startswith("\ufeff")
    assert doc.doc_type == "txt"
    assert doc.doc_id == "notice"
    assert doc.title == "广东省人民政府办公厅关于印发〈广东省数字经济促进方案〉的通知"
    assert doc.meta == {
        "doc_number": "粤府办〔2024〕12号",
        "issuer": "广东省人民政府办公厅",
        "date": "2024-03-18",
        "language": "zh",
    }


def test_text_newlines_and_trailing_space_normalised_full_width_kept(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes("标题  \r\n\r\n\r\n\r\n第一条　内容（一）ＡＢＣ１２３。\t \rend".encode())
    doc = load(path)
    assert doc.text == "标题\n\n第一条　内容（一）ＡＢＣ１２３。\nend"


def test_large_text_file_loads_quickly(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    block = ("第十二条 本条例所称数据，是指任何以电子或者其他方式对信息的记录。  \r\n" * 2000).encode()
    path.write_bytes(block * 40)  # ~13 MB
    started = time.perf_counter()
    doc = load(path)
    assert time.perf_counter() - started < 15
    assert "\r" not in doc.text and "  \n" not in doc.text
    assert doc.meta["language"] == "zh"


# ----- Markdown -----


def test_markdown_headings_offsets_and_emphasis(tmp_path: Path) -> None:
    path = tmp_path / "plan.md"
    path.write_text(
        "---\nlayout: post\n---\n# Digital Plan\n\nIntro with **bold** text.\n\n## Goals\n\nGrow.\n\n"
        "```\n# not a heading\n```\n\n### Sub goal ###\nMore.\n",
        encoding="utf-8",
    )
    doc = load(path)
    assert doc.title == "Digital Plan"
    assert "layout" not in doc.text and "**" not in doc.text and "Intro with bold text." in doc.text
    assert [(level, text) for _, level, text in doc.headings] == [(1, "Digital Plan"), (2, "Goals"), (3, "Sub goal")]
    for offset, level, text in doc.headings:
        assert doc.text[offset:].startswith("#" * level + " " + text)
    assert doc.meta["language"] == "en"


# ----- DOCX -----


def make_docx(path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("深圳经济特区数据条例", level=0)
    d.add_paragraph("深圳市人民代表大会常务委员会")
    d.add_heading("第一章 总则", level=1)
    d.add_paragraph("第一条 为了规范数据处理活动，保护自然人、法人和非法人组织的合法权益，制定本条例。")
    d.add_heading("第一节 一般规定", level=2)
    d.add_paragraph("")
    d.add_paragraph("第二条 本条例适用于本市行政区域内的数据处理活动。")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "指标"
    table.cell(0, 1).text = "目标"
    table.cell(1, 0).text = "数据中心"
    table.cell(1, 1).text = "10个"
    d.save(str(path))


def test_docx_paragraphs_tables_and_heading_styles(tmp_path: Path) -> None:
    path = tmp_path / "regs" / "data.docx"
    path.parent.mkdir()
    make_docx(path)
    doc = load_document(path, tmp_path)
    assert doc.doc_id == "regs/data" and doc.doc_type == "docx"
    assert doc.title == "深圳经济特区数据条例"
    assert [(lv, t) for _, lv, t in doc.headings] == [
        (1, "深圳经济特区数据条例"),
        (1, "第一章 总则"),
        (2, "第一节 一般规定"),
    ]
    for offset, _, text in doc.headings:
        assert doc.text[offset : offset + len(text)] == text
    assert "第二条 本条例适用于" in doc.text
    assert "表头：指标 | 目标\n行：数据中心 | 目标：10个" in doc.text  # tables keep their header (assistant.tables)
    assert "\n\n" not in doc.text  # the empty paragraph is dropped


# ----- HTML -----

PAGE = """<html><head><meta charset="gbk"><title>关于加快发展数字经济的通知_广东省人民政府门户网站</title>
<style>.x{color:red}</style><script>var tracking = "SCRIPT-JUNK";</script></head>
<body>
<header><nav><a href="/">首页</a> | <a href="/zw">政务公开</a> | NAV-JUNK 导航菜单</nav></header>
<aside class="sidebar"><ul><li>SIDEBAR-JUNK 相关链接</li></ul></aside>
<main><article>
<h1>关于加快发展数字经济的通知</h1>
<p>粤府办〔2024〕12号</p>
<h2>一、总体要求</h2>
<p>为深入贯彻落实党中央、国务院关于发展数字经济的决策部署，加快推进数字产业化和产业数字化，制定本通知。各地要高度重视，认真组织实施。</p>
<h2>二、重点任务</h2>
<p>（一）加强数字基础设施建设。加快5G网络建设，推进千兆光网覆盖，到2025年实现城乡全覆盖，建成一批算力枢纽。</p>
<p>（二）推动产业数字化转型。支持中小企业上云用数赋智，培育一批数字化转型标杆企业和服务平台。</p>
</article></main>
<footer>FOOTER-JUNK 版权所有 广东省人民政府办公厅 网站标识码 ICP备案</footer>
</body></html>"""


def test_html_main_content_without_boilerplate(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(PAGE.encode("gbk"))
    doc = load(path)
    assert doc.doc_type == "html"
    assert doc.title == "关于加快发展数字经济的通知"
    for junk in ("NAV-JUNK", "SIDEBAR-JUNK", "FOOTER-JUNK", "SCRIPT-JUNK", "color:red"):
        assert junk not in doc.text
    assert "（二）推动产业数字化转型" in doc.text
    assert {"一、总体要求", "二、重点任务"} <= {t for _, _, t in doc.headings}
    for offset, level, text in doc.headings:
        assert doc.text[offset:].startswith("#" * level + " " + text)
    assert doc.meta["doc_number"] == "粤府办〔2024〕12号"


def test_html_fallback_when_trafilatura_finds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", lambda *a, **k: None)
    path = tmp_path / "page.htm"
    path.write_bytes(PAGE.encode("gbk"))
    doc = load(path)
    for junk in ("NAV-JUNK", "FOOTER-JUNK", "SCRIPT-JUNK", "SIDEBAR-JUNK"):
        assert junk not in doc.text
    assert "加快5G网络建设" in doc.text
    assert (2, "二、重点任务") in [(lv, t) for _, lv, t in doc.headings]


# ----- PDF -----


def make_pdf(path: Path, pages: list[str], *, font: Path | None = None, title: str | None = None) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if font:
        pdf.add_font("cjk", "", str(font))
        pdf.set_font("cjk", size=12)
    else:
        pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    pdf.output(str(path))


def test_pdf_pages_offsets_and_metadata_title(tmp_path: Path) -> None:
    path = tmp_path / "policy.pdf"
    pages = ["Article 1 This regulation applies to data.", "Article 2 Issued by: Ministry of Data", "Article 3 End."]
    make_pdf(path, pages, title="Data Regulation 2025")
    doc = load(path)
    assert doc.doc_type == "pdf" and doc.title == "Data Regulation 2025"
    assert [p.page for p in doc.pages] == [1, 2, 3]
    for span, expected in zip(doc.pages, pages, strict=True):
        assert doc.text[span.start : span.end] == expected
    assert doc.text == "\n\n".join(pages)
    assert doc.meta["issuer"] == "Ministry of Data"


@pytest.mark.skipif(not CJK_FONT.exists(), reason="no CJK font installed to draw a Chinese PDF")
def test_pdf_with_chinese_text(tmp_path: Path) -> None:
    path = tmp_path / "cjk.pdf"
    make_pdf(
        path,
        ["第一章 总则\n第一条 为了规范数据处理活动，制定本条例。", "第二条 本条例自2024年1月1日起施行。"],
        font=CJK_FONT,
    )
    doc = load(path)
    assert "第一条 为了规范数据处理活动，制定本条例。" in doc.text
    assert doc.text[doc.pages[1].start : doc.pages[1].end] == "第二条 本条例自2024年1月1日起施行。"
    assert doc.meta["language"] == "zh"


def test_pdf_cjk_artefacts_cleaned() -> None:
    raw = "第一章 总则\n数 据 安 全 ， 很 重 要 。 Open data policy\n第 十二 条\n⼀⼆"
    assert clean_pdf_text(raw) == "第一章 总则\n数据安全，很重要。 Open data policy\n第十二条\n一二"


def test_pdf_page_numbers_dropped_and_wrapped_lines_joined() -> None:
    raw = (
        "— 1 —\n　　坚持创新驱动、应用牵引、开源赋能、安全可控，以基础\n软件和工业软件攻关为突破口，推动发展。\n"
        "（一）发展思路\n短行\n第 2 页"
    )
    assert (
        clean_pdf_text(raw)
        == "坚持创新驱动、应用牵引、开源赋能、安全可控，以基础软件和工业软件攻关为突破口，推动发展。\n（一）发展思路\n短行"
    )
    english = "This regulation applies to all data processing activities in the\nprovince by any person or body.\nShort line\nPage 3 of 9"
    assert clean_pdf_text(english) == (
        "This regulation applies to all data processing activities in the province by any person or body.\nShort line"
    )


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    plain = tmp_path / "plain.pdf"
    make_pdf(plain, ["Secret text."])
    writer = PdfWriter()
    writer.append(PdfReader(plain))
    writer.encrypt("s3cret", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as f:
        writer.write(f)
    assert reason_of(locked) == "encrypted PDF (password protected)"


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a "scan": drawing only, no text
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    assert reason_of(path) == "no text layer — scanned PDF, needs OCR"


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "bad.pdf"
    path.write_bytes(os.urandom(4096))
    assert reason_of(path).startswith("not a valid PDF: ")


# ----- other bad inputs -----


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(b"")
    assert reason_of(path) == "empty file"


def test_whitespace_only_has_no_text(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_text(" \n\n\u3000\n\t", encoding="utf-8")
    assert reason_of(path) == "no text found"


def test_binary_data_with_text_extension(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    assert reason_of(path) == "binary data, not text"


def test_undecodable_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import charset_normalizer

    class NoGuess:
        def best(self) -> None:
            return None

    monkeypatch.setattr(charset_normalizer, "from_bytes", lambda data: NoGuess())
    path = tmp_path / "odd.txt"
    path.write_bytes(b"caf\xe9 \xff\xfe\xfd and more")
    assert reason_of(path).startswith("undecodable text")


def test_docx_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 this is an old Word 97 file" * 10)
    assert reason_of(path).startswith("not a valid DOCX")


def test_docx_zip_without_word_document(tmp_path: Path) -> None:
    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "not a word document")
    assert reason_of(path).startswith("not a valid DOCX")


def test_unsupported_extension_rejected_by_loader(tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_text("text")
    assert reason_of(path).startswith("unsupported file type '.xyz' (supported: ")


@pytest.mark.parametrize("suffix", sorted(SUPPORTED))
def test_random_bytes_only_ever_raise_document_error(tmp_path: Path, suffix: str) -> None:
    for n in range(3):
        path = tmp_path / f"junk{n}{suffix}"
        path.write_bytes(os.urandom(2000 + n))
        try:
            load(path)
        except DocumentError:
            pass


# ----- metadata -----


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("粤府办〔2024〕12号", "粤府办〔2024〕12号"),
        ("国办发[2023]5号", "国办发〔2023〕5号"),
        ("（粤工信软件（2025）7号）", "粤工信软件〔2025〕7号"),
        ("发文字号：国办函〔2018〕71号", "国办函〔2018〕71号"),
        ("国发【2019】 3 号", "国发〔2019〕3号"),
    ],
)
def test_doc_number_forms(line: str, expected: str) -> None:
    assert detect_meta(f"某某通知\n{line}\n正文。")["doc_number"] == expected


def test_doc_number_cited_in_body_is_not_the_documents_own() -> None:
    text = "某某通知\n根据《国务院关于印发新一代人工智能发展规划的通知》（国发〔2017〕35号）要求，为推动人工智能发展，现就有关事项通知如下。"
    assert "doc_number" not in detect_meta(text)


def test_issuer_and_date_from_signature_block() -> None:
    body = "\n".join(
        [
            "关于做好数据安全工作的通知",
            "各区人民政府：",
            *["正文内容。"] * 20,
            "深圳市工业和信息化局",
            "二〇二四年十一月五日",
        ]
    )
    meta = detect_meta(body)
    assert meta["issuer"] == "深圳市工业和信息化局"
    assert meta["date"] == "2024-11-05"


def test_issuer_field_and_english_dates() -> None:
    meta = detect_meta("Open Data Policy\nIssued by: Ministry of Digital Affairs\nMarch 18, 2025\nThe policy text.")
    assert meta == {"issuer": "Ministry of Digital Affairs", "date": "2025-03-18", "language": "en"}
    assert detect_meta("Plan\nAdopted 2025-03-18.\nText.")["date"] == "2025-03-18"


def test_title_cleaning() -> None:
    assert clean_title("《广东省数据条例》") == "广东省数据条例"
    assert clean_title("## 关于印发《方案》的通知") == "关于印发〈方案〉的通知"
    assert len(clean_title("x" * 500)) == 120


# ----- discovery -----


def test_discover_walks_sorted_and_skips(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for name in [
        "b.txt",
        "a.md",
        "sub/c.pdf",
        "sub/README.md",
        "readme.md",
        "_drafts/x.txt",
        ".git/config.txt",
        ".hidden.txt",
        "sub/.secret.md",
        "~$lock.docx",
        "notes.xyz",
    ]:
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_text("x")
    files, errors = discover([corpus, tmp_path / "missing"])
    assert files == [(corpus / "a.md", corpus), (corpus / "b.txt", corpus), (corpus / "sub/c.pdf", corpus)]
    reasons = {Path(e.path).name: e.reason for e in errors}
    assert reasons["missing"] == "does not exist"
    assert reasons["notes.xyz"].startswith("unsupported file type '.xyz' (supported: .docx")


def test_discover_file_given_directly_has_parent_root(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "law-gd-0354240315.txt"
    path.parent.mkdir()
    path.write_text("x")
    files, errors = discover([path])
    assert files == [(path, path.parent)] and not errors
    assert doc_id_for(*files[0]) == "law-gd-0354240315"


def test_discover_survives_symlink_loops(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "en").mkdir(parents=True)
    (corpus / "en" / "plan.md").write_text("# Plan")
    os.symlink(corpus, corpus / "en" / "loop")  # a folder linked into itself
    os.symlink(corpus / "self", corpus / "self")  # a link to itself
    os.symlink(corpus / "en" / "plan.md", corpus / "alias.md")
    started = time.perf_counter()
    files, errors = discover([corpus])
    assert time.perf_counter() - started < 5
    assert files == [(corpus / "en" / "plan.md", corpus)]  # the real file and its alias are one document
    assert {Path(e.path).name for e in errors} == {"self", "alias.md"}


def test_doc_id_for() -> None:
    assert doc_id_for(Path("docs/law-gd-0354240315.txt"), Path("docs")) == "law-gd-0354240315"
    assert doc_id_for(Path("corpus/en/plan.md"), Path("corpus")) == "en/plan"
    assert doc_id_for(Path("corpus/v1.2/plan.final.md"), Path("corpus")) == "v1.2/plan.final"


@pytest.mark.parametrize(
    "signature",
    ["1984年1月7日 国务院", "国务院 1984年1月7日", "国务院\n1984年1月7日", "1984年1月7日（国务院）"],
)
def test_issuer_is_never_a_date_line(signature: str) -> None:
    meta = detect_meta(f"关于加强数据管理的通知\n\n各部门要加强管理。\n\n{signature}\n")
    assert meta["issuer"] == "国务院" and meta["date"] == "1984-01-07"
