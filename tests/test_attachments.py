"""附件: sections of a notice become their own sections; attachment files are linked to their parent."""

from __future__ import annotations

from pathlib import Path

from assistant.attachments import (
    attachment_headings,
    attachment_label,
    attachment_meta,
    attachments_last,
    parent_doc_id,
)
from assistant.chunking import chunk_document
from assistant.documents import load_document

NOTICE = """广州市工业和信息化局关于印发软件产业扶持办法的通知
各区工业和信息化主管部门：
现将《广州市软件产业扶持办法》印发给你们，请认真贯彻执行。
附件：1. 申报指南
广州市工业和信息化局
2024年3月1日
广州市软件产业扶持办法
第一条 为促进软件产业发展，制定本办法。
第二条 对软件企业出海保险给予补贴。
附件1
申报指南
一、申报条件
在广州市注册的软件企业，上年度营业收入不低于500万元。
二、申报材料
营业执照、财务审计报告。
"""


def test_attachment_lines_become_top_level_sections(tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text(NOTICE, encoding="utf-8")
    doc = load_document(path, tmp_path)
    labels = [h[2] for h in attachment_headings(doc.text)]
    assert labels == ["附件1 申报指南"]  # the list in the notice's body ("附件：1. 申报指南") is not a section
    chunks = chunk_document(doc, max_chars=120, min_chars=0)
    condition = next(c for c in chunks if "不低于500万元" in c.text)
    assert "附件1" in condition.section  # cited as the notice's 附件1, under the notice's doc_id and title
    assert "第二条" not in condition.section
    article = next(c for c in chunks if "出海保险" in c.text)
    assert "附件" not in article.section


def test_a_sentence_mentioning_an_attachment_is_not_a_heading() -> None:
    assert attachment_headings("详见附件2。\n") == []
    assert attachment_headings("附件2：申报承诺书\n")[0][2] == "附件2 申报承诺书"


def test_attachment_files_find_their_parent() -> None:
    ids = {"gz/通知", "gz/通知-附件1", "sz/政策", "sz/政策/附件2", "cd/办法", "cd/附件3", "solo/附件"}
    assert attachment_label("gz/通知-附件1") == "附件1"
    assert attachment_label("gz/通知") == ""
    assert parent_doc_id("gz/通知-附件1", ids) == "gz/通知"
    assert parent_doc_id("sz/政策/附件2", ids) == "sz/政策"
    assert parent_doc_id("cd/附件3", ids) == "cd/办法"  # the folder's only other document
    assert parent_doc_id("solo/附件", ids) is None
    meta = attachment_meta("gz/通知-附件1", ids, {"gz/通知": "关于印发扶持办法的通知"})
    assert meta == {"attachment": "附件1", "parent_doc_id": "gz/通知", "parent_title": "关于印发扶持办法的通知"}
    files = [(Path("gz/通知-附件1.pdf"), Path(".")), (Path("gz/通知.docx"), Path("."))]
    assert [f.name for f, _ in attachments_last(files)] == ["通知.docx", "通知-附件1.pdf"]
