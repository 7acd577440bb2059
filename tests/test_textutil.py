"""Tests for assistant/textutil.py: the shared article label and section paths."""

from __future__ import annotations

import pytest

from assistant.textutil import ARTICLE_LABEL, cn_number, join_section, section_label, section_parts


@pytest.mark.parametrize(
    ("text", "label", "number"),
    [
        ("第十二条", "第十二条", 12),
        ("第一百零三条", "第一百零三条", 103),
        ("第一千零三条", "第一千零三条", 1003),  # the Civil Code has articles past a thousand
        ("第12条", "第12条", 12),
        ("第两百条", "第两百条", 200),
        ("第十条之一 国家鼓励…", "第十条之一", 10),  # an inserted article keeps its suffix in the label
        ("依照本法第五十八条的规定", "第五十八条", 58),
    ],
)
def test_article_label_finds_labels_and_their_numbers(text: str, label: str, number: int) -> None:
    m = ARTICLE_LABEL.search(text)
    assert m is not None and m.group(0) == label and cn_number(m.group(1)) == number


@pytest.mark.parametrize("text", ["第三章 总则", "第二款", "十二条", "第条", "第三次修正", "第A条", "条例第"])
def test_article_label_ignores_other_labels_and_counts(text: str) -> None:
    assert ARTICLE_LABEL.search(text) is None


def test_article_label_match_is_anchored_at_the_start() -> None:
    assert ARTICLE_LABEL.match("第十二条 申请人应当…") is not None
    assert ARTICLE_LABEL.match("依照第十二条") is None


def test_article_label_finds_every_label() -> None:
    found = [m.group(1) for m in ARTICLE_LABEL.finditer("新增第五条、第9条，修改了第十条之二")]
    assert found == ["五", "9", "十"]


def test_section_label_is_the_innermost_part() -> None:
    assert section_label("第三章 总则 > 第十二条") == "第十二条"
    assert section_label(join_section(["## 第一章", "### 第二节 "])) == "第二节"
    assert section_label("第十二条") == "第十二条"
    assert section_label("") == "" and section_label(" > ") == ""
    assert section_parts("第三章 总则>第十二条") == ["第三章 总则", "第十二条"]
