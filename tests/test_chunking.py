"""Structure-aware chunking: exact spans, article and measure boundaries, section paths, limits."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from assistant.chunking import chunk_document, sentence_spans
from assistant.types import Chunk, Document, PageSpan

ARTICLE_START = re.compile(r"(?m)^第[一二三四五六七八九十百]+条")
NUMERALS = "一二三四五六七八九十"


def cn(n: int) -> str:
    """Chinese numeral for 1..99."""
    tens, units = divmod(n, 10)
    return (("" if tens == 1 else NUMERALS[tens - 1]) + "十" if tens else "") + (NUMERALS[units - 1] if units else "")


def regulation() -> str:
    head = "深圳经济特区数据促进条例\n深府〔2024〕3号\n深圳市人民政府\n2024年3月18日\n\n"
    parts = [head]
    n = 0
    for chapter, (name, count) in enumerate([("总则", 4), ("数据处理", 6), ("促进措施", 6)], start=1):
        parts.append(f"第{cn(chapter)}章 {name}\n\n")
        for _ in range(count):
            n += 1
            if n == 6:  # a long article of many sentences
                body = "".join(
                    f"数据处理者应当履行第{k}项安全保护义务，建立健全全流程数据安全管理制度。" for k in range(1, 25)
                )
            elif n == 9:  # an article with items
                body = "市人民政府应当采取下列措施：\n" + "".join(
                    f"（{cn(k)}）建设第{k}类公共数据开放平台，推动公共数据有序开放和开发利用；\n" for k in range(1, 13)
                )
            else:
                body = f"本条例第{n}条规定的事项，由市人民政府数据主管部门负责组织实施。"
            parts.append(f"第{cn(n)}条 {body}\n\n")
    return "".join(parts).strip()


def make_doc(
    text: str,
    *,
    title: str | None = None,
    doc_type: str = "txt",
    pages: list[PageSpan] | None = None,
    headings: list[tuple[int, int, str]] | None = None,
) -> Document:
    return Document(
        doc_id="doc",
        path="x",
        title=text.split("\n")[0] if title is None else title,
        text=text,
        doc_type=doc_type,
        pages=pages or [],
        headings=headings or [],
    )


def check_spans(doc: Document, chunks: list[Chunk], max_chars: int = 420) -> None:
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        assert c.text == c.text.strip() and c.text
        assert len(c.text) <= max_chars
        assert c.chunk_id == f"{doc.doc_id}#{c.ordinal}" and c.doc_id == doc.doc_id
    starts = [c.start for c in chunks]
    assert starts == sorted(starts)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    missing = [i for i, ch in enumerate(doc.text) if not ch.isspace() and i not in covered]
    assert not missing, f"text not in any chunk: {doc.text[missing[0] : missing[0] + 30]!r}"


def test_regulation_articles_never_share_a_chunk() -> None:
    doc = make_doc(regulation())
    chunks = chunk_document(doc)
    check_spans(doc, chunks)
    assert len(ARTICLE_START.findall(doc.text)) == 16
    for c in chunks:
        assert len(ARTICLE_START.findall(c.text)) <= 1, c.text
    assert len({a for c in chunks for a in ARTICLE_START.findall(c.text)}) == 16


def test_header_block_is_its_own_chunk() -> None:
    chunks = chunk_document(make_doc(regulation()))
    assert chunks[0].text == "深圳经济特区数据促进条例\n深府〔2024〕3号\n深圳市人民政府\n2024年3月18日"
    assert chunks[0].section == ""


def test_section_paths_and_chapter_heading_in_first_chunk() -> None:
    chunks = chunk_document(make_doc(regulation()))
    by_article = {c.section: c for c in chunks}
    assert "第一章 总则 > 第一条" in by_article
    assert "第二章 数据处理 > 第五条" in by_article
    assert "第三章 促进措施 > 第十二条" in by_article
    first = by_article["第二章 数据处理 > 第五条"]
    assert first.text.startswith("第二章 数据处理\n\n第五条")
    assert not any(c.text.strip() in {"第一章 总则", "第二章 数据处理", "第三章 促进措施"} for c in chunks)


def test_long_article_split_at_sentence_ends() -> None:
    chunks = [c for c in chunk_document(make_doc(regulation())) if c.section == "第二章 数据处理 > 第六条"]
    assert len(chunks) >= 3
    assert chunks[0].text.startswith("第六条")
    for c in chunks:
        assert c.text.endswith("。")
        assert 60 <= len(c.text) <= 420


def test_article_with_items_keeps_its_lead_in_and_items_together() -> None:
    chunks = [c for c in chunk_document(make_doc(regulation())) if c.section.endswith("第九条")]
    assert len(chunks) >= 2
    assert chunks[0].text.startswith("第九条 市人民政府应当采取下列措施：\n（一）")
    for c in chunks[1:]:
        assert c.text.startswith("（")  # cut at item boundaries
        assert c.section == "第二章 数据处理 > 第九条"


PLAN = """广东省数字政府建设行动方案
为加快数字政府建设，制定本方案。

一、总体要求
（一）指导思想。坚持以人民为中心，推进政务服务标准化、规范化、便利化。
（二）工作目标。到2025年，政务服务事项全部实现网上可办。

二、重点任务
（一）夯实数字基础设施。{long1}
（二）提升政务服务效能。{long2}
1.推进一网通办。全面推行“一件事一次办”，减少办事环节和材料。
2.推进跨省通办。扩大跨省通办事项范围，完善异地办理机制。
（三）强化数据共享。建立健全数据共享协调机制。

三、保障措施
加强组织领导，压实工作责任。"""


def plan_doc() -> Document:
    long1 = "".join(f"建设第{k}个政务云节点，提升算力支撑和网络安全防护能力。" for k in range(1, 12))
    long2 = "".join(f"优化第{k}类高频事项办理流程，压减办理时限和申请材料。" for k in range(1, 6))
    return make_doc(PLAN.format(long1=long1, long2=long2))


def test_plan_measures_and_items() -> None:
    doc = plan_doc()
    chunks = chunk_document(doc, max_chars=200)
    check_spans(doc, chunks, 200)
    for c in chunks:
        assert len(re.findall(r"(?m)^[一二三四五六七八九十]+、", c.text)) <= 1, c.text
    sections = [c.section for c in chunks]
    assert sections[0] == ""
    assert "一、总体要求" in sections
    assert "二、重点任务 > （一）" in sections  # the long item was split; its pieces carry the item
    assert sections[-1] == "三、保障措施"
    small_items = next(c for c in chunks if c.section == "一、总体要求")
    assert "（一）指导思想" in small_items.text and "（二）工作目标" in small_items.text  # short items packed


ENGLISH = """Data Protection Regulation

Chapter I General Provisions

Article 1 Subject matter. This Regulation lays down rules on the processing of personal data. It applies e.g. to banks and No. 5 of the annex.

Article 2 Scope. This Regulation applies to processing wholly or partly by automated means.

Chapter II Principles

Article 3 Lawfulness. Processing shall be lawful only if and to the extent that at least one of the following applies. The data subject has given consent. Processing is necessary for the performance of a contract. Processing is necessary for compliance with a legal obligation. Processing is necessary to protect vital interests of the data subject."""


def test_english_articles_and_chapters() -> None:
    doc = make_doc(ENGLISH, title="Data Protection Regulation")
    chunks = chunk_document(doc, max_chars=160)
    check_spans(doc, chunks, 160)
    sections = {c.section for c in chunks}
    assert {"Chapter I General Provisions > Article 1", "Chapter II Principles > Article 3"} <= sections
    for c in chunks:
        assert len(re.findall(r"(?m)^Article \d+", c.text)) <= 1
    art3 = [c for c in chunks if c.section.endswith("Article 3")]
    assert len(art3) >= 2 and all(c.text.endswith(".") for c in art3)


def test_markup_headings_give_paths_without_the_title() -> None:
    text = (
        "# Digital Plan\n\nIntro text for the plan.\n\n## Goals\n\n### Skills\n\nTrain people.\n\n## Budget\n\nMoney."
    )
    headings = [(m.start(), len(m.group(1)), m.group(2)) for m in re.finditer(r"(?m)^(#+) (.+)$", text)]
    doc = make_doc(text, title="Digital Plan", headings=headings, doc_type="md")
    chunks = chunk_document(doc)
    check_spans(doc, chunks)
    assert [c.section for c in chunks] == ["", "## Goals > ### Skills", "## Budget"]
    assert chunks[1].text.startswith("## Goals")  # the heading-only section joins the first chunk under it


def test_pdf_page_numbers() -> None:
    pages_text = [
        "第一条 " + "甲" * 150 + "。",
        "第二条 " + "乙" * 150 + "。\n第三条 短。",
        "第四条 " + "丙" * 100 + "。",
    ]
    text = "\n\n".join(pages_text)
    spans, pos = [], 0
    for n, t in enumerate(pages_text, start=1):
        spans.append(PageSpan(n, pos, pos + len(t)))
        pos += len(t) + 2
    doc = make_doc(text, pages=spans, doc_type="pdf", title="t")
    chunks = chunk_document(doc, max_chars=100)
    check_spans(doc, chunks, 100)
    for c in chunks:
        expected = [p.page for p in spans if p.start < c.end and p.end > c.start]
        assert c.pages == expected and len(c.pages) >= 1
    assert next(c for c in chunks if c.text.startswith("第三条")).pages == [2]
    assert chunk_document(make_doc("第一条 内容。"))[0].pages == []


def test_token_limit_respected() -> None:
    doc = make_doc(regulation())
    chunks = chunk_document(doc, max_chars=1000, token_len=len, max_tokens=90)
    check_spans(doc, chunks, 90)

    def words(s: str) -> int:
        return len(s.split())

    english = make_doc(ENGLISH)
    chunks = chunk_document(english, max_chars=1000, token_len=words, max_tokens=12)
    check_spans(english, chunks, 1000)
    assert all(words(c.text) <= 12 for c in chunks)


def test_deterministic() -> None:
    doc = plan_doc()
    assert chunk_document(doc, max_chars=150) == chunk_document(doc, max_chars=150)


def test_single_huge_line() -> None:
    text = "数据安全" * 25_000  # 100k characters, no punctuation, no newline
    doc = make_doc("标题\n" + text)
    started = time.perf_counter()
    chunks = chunk_document(doc)
    assert time.perf_counter() - started < 5
    check_spans(doc, chunks)
    words = " ".join(["policy"] * 20_000)
    doc = make_doc(words)
    check_spans(doc, chunk_document(doc))


def test_small_tail_is_not_left_alone() -> None:
    sentences = ["这是一个比较长的句子用于测试切分效果的稳定性。" * 1] * 17 + ["短句。"]
    doc = make_doc("第一条 " + "".join(sentences))
    chunks = chunk_document(doc, max_chars=100, min_chars=30)
    check_spans(doc, chunks, 100)
    assert all(len(c.text) >= 30 for c in chunks)


def test_overlap_repeats_sentences() -> None:
    doc = make_doc(regulation())
    plain = [c for c in chunk_document(doc) if c.section.endswith("第六条")]
    overlapped = [c for c in chunk_document(doc, overlap_sentences=1) if c.section.endswith("第六条")]
    assert len(overlapped) >= len(plain) >= 2
    for before, after in zip(overlapped, overlapped[1:], strict=False):
        assert after.start < before.end  # the last sentence is repeated
        assert doc.text[after.start : before.end].endswith("。")


def test_no_structure_packs_paragraphs() -> None:
    paragraphs = [f"第{k}段答复内容，办理材料包括身份证明和申请表。" for k in range(40)]
    doc = make_doc("北京市政务知识库答复汇编\n" + "\n".join(paragraphs))
    chunks = chunk_document(doc, max_chars=200)
    check_spans(doc, chunks, 200)
    assert all(c.section == "" for c in chunks)
    assert all(c.text.endswith("。") for c in chunks[:-1])


def test_empty_document() -> None:
    assert chunk_document(make_doc("", title="")) == []


def test_speed_on_a_large_corpus() -> None:
    doc = make_doc(regulation() * 300)  # ~1.5 M characters
    started = time.perf_counter()
    chunks = chunk_document(doc)
    assert time.perf_counter() - started < 5
    assert chunks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("第一句。第二句！第三句？", ["第一句。", "第二句！", "第三句？"]),
        ("他说：“好。”然后走了；再见……", ["他说：“好。”", "然后走了；", "再见……"]),
        (
            "See No. 5 and e.g. Article 3. Growth was 3.5 percent. Done",
            ["See No. 5 and e.g. Article 3.", "Growth was 3.5 percent.", "Done"],
        ),
        ("Why? Because 2025 targets matter.", ["Why?", "Because 2025 targets matter."]),
    ],
)
def test_sentence_spans(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in sentence_spans(text)] == expected


def test_label_variants_and_references() -> None:
    text = (
        "某某条例\n第一章总则\n第一条为了规范数据处理，制定本条例。\n"
        "第五条规定的事项，依照本条例执行。\n第二章\n管理\n第二条 本条例自公布之日起施行。"
    )
    chunks = chunk_document(make_doc(text))
    assert [c.section for c in chunks] == ["", "第一章 总则 > 第一条", "第二章 管理 > 第二条"]
    assert "第五条规定的事项" in chunks[1].text  # a reference at line start is not an article
    assert chunks[2].text.startswith("第二章\n管理\n第二条")


def test_loaded_markdown_document(tmp_path: Path) -> None:
    from assistant.documents import load_document

    path = tmp_path / "plan.md"
    path.write_text(
        "# 数字经济促进方案\n\n粤府办〔2024〕12号\n\n## 一、总体要求\n\n坚持创新驱动。\n\n"
        "## 二、重点任务\n\n（一）夯实基础。建设算力设施。\n\n（二）推动转型。支持企业上云。\n",
        encoding="utf-8",
    )
    doc = load_document(path, tmp_path)
    chunks = chunk_document(doc)
    check_spans(doc, chunks)
    assert [c.section for c in chunks] == ["", "一、总体要求", "二、重点任务"]
    assert "粤府办〔2024〕12号" in chunks[0].text
