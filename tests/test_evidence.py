"""Prompt compression: which sentences of the retrieved passages the LLM gets to read."""

from __future__ import annotations

import pytest

from assistant.evidence import estimate_tokens, select
from assistant.types import Passage


def passage(n: int, text: str, doc: str = "d", title: str = "示例办法", section: str = "") -> Passage:
    return Passage(chunk_id=f"{doc}#{n}", doc_id=doc, text=text, score=1.0, title=title, section=section)


FILLER = "其他事项按照有关规定执行。" * 8


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("对项目给予最高800万元奖励。", 9, 14), ("The department shall publish the list within 7 days.", 9, 14)],
)
def test_estimate_tokens_is_near_the_model_tokenizer(text: str, low: int, high: int) -> None:
    # Qwen2.5 counts 10 and 11 tokens for these.
    assert low <= estimate_tokens(text) <= high


@pytest.mark.parametrize("budget", [40, 80, 400])
def test_keeps_the_answer_sentence_within_budget(budget: int) -> None:
    text = "第三条　甲。" + FILLER + "对项目给予最高800万元奖励。" + FILLER
    out = select("项目最高奖励多少", [passage(0, text)], [1], budget)
    assert len(out) == 1 and "800万元" in out[0].text
    assert estimate_tokens(out[0].text) <= max(budget * 1.15, estimate_tokens("对项目给予最高800万元奖励。"))
    assert "其他事项" not in out[0].text  # filler shares nothing with the question


def test_opening_sentence_joins_when_it_fits() -> None:
    text = "第十三条　生产控制类工业软件攻关项目。" + FILLER + "单个项目省级资金支持最高600万元。"
    out = select("单个项目省级资金支持最高多少", [passage(0, text)], [1], 200)
    assert out[0].text.startswith("第十三条") and out[0].text.endswith("600万元。") and "……" in out[0].text


def test_sentences_compete_across_passages_and_losers_drop() -> None:
    weak = passage(0, "本办法所称软件企业是指依法设立的企业。" + FILLER, doc="a", title="甲办法")
    strong = passage(1, "首版次软件产品按销售额的20%给予奖励。" + FILLER, doc="b", title="乙办法")
    out = select("首版次软件产品奖励比例是多少", [weak, strong], [1, 2], 60)
    assert [e.number for e in out] == [2] and "20%" in out[0].text


def test_title_once_per_document_and_blocks_grouped_by_document() -> None:
    a1 = passage(0, "开源鸿蒙发行版企业给予300万元补助。", doc="a", title="鸿蒙方案", section="第五条")
    b = passage(1, "开源鸿蒙人才培训每人次补助500元。", doc="b", title="人才办法", section="第二条")
    a2 = passage(2, "开源鸿蒙终端产品每款补助20万元。", doc="a", title="鸿蒙方案", section="第六条")
    out = select("开源鸿蒙补助", [a1, b, a2], [1, 2, 3], 400)
    assert [e.number for e in out] == [1, 3, 2]
    assert out[0].header == "《鸿蒙方案》 第五条" and out[1].header == "第六条" and out[2].header == "《人才办法》 第二条"


def test_rare_question_words_outweigh_common_ones() -> None:
    common = passage(0, "广东省支持软件产业发展。广东省加强软件人才培养。", doc="a")
    rare = passage(1, "深度学习框架攻关项目最高支持1000万元。", doc="b")
    idf = {"广东": 0.1, "东省": 0.1, "深度": 5.0, "学习": 5.0, "框架": 5.0}
    out = select("广东省深度学习框架", [common, rare], [1, 2], 30, idf=idf)
    assert [e.number for e in out] == [2]


def test_other_language_passage_is_ranked_by_similarity() -> None:
    zh = passage(0, "本办法自2025年8月1日起施行。申报材料应当真实。企业应当诚信经营。", doc="z")
    calls = []

    def similarity(question: str, sentences: list[str]) -> list[float]:
        calls.append(sentences)
        return [0.9 if "施行" in s else 0.1 for s in sentences]

    out = select("When does the measure take effect?", [zh], [1], 20, similarity=similarity)
    assert calls and "2025年8月1日" in out[0].text and "诚信" not in out[0].text


def test_question_about_the_whole_document_gets_its_opening() -> None:
    text = "广东省推进开源鸿蒙适配应用工作方案\n粤工信函〔2025〕45号\n各地级以上市工业和信息化主管部门：\n" + FILLER
    p = passage(0, text, title="广东省推进开源鸿蒙适配应用工作方案")
    out = select("《广东省推进开源鸿蒙适配应用工作方案》的文号是什么？", [p], [1], 60)
    assert "粤工信函〔2025〕45号" in out[0].text


def test_evidence_score_across_languages_is_the_dense_similarity() -> None:
    from assistant.evidence import score
    from assistant.query import Query
    from assistant.types import Passage

    zh = Passage(
        chunk_id="d#0", doc_id="d", text="对主导发布开源鸿蒙发行版的企业给予最高300万元补助。", score=1.0,
        stages={"dense": 0.42},
    )
    assert score(Query.make("How much is the subsidy for an OpenHarmony distribution?"), zh) == 0.42
    assert score(Query.make("开源鸿蒙发行版补助多少"), zh) > 0.5  # same language: word overlap
    assert score(Query.make("开源鸿蒙发行版补助多少"), zh) != 0.42


def test_weak_evidence_refuses_nothing_found_unknown_titles_and_low_scores() -> None:
    from assistant.evidence import weak
    from assistant.types import Passage

    p = Passage(chunk_id="d#0", doc_id="d", text="x", score=1.0, evidence=0.05)
    assert weak([], None, 0.1)  # nothing retrieved (e.g. a filter that excludes everything)
    assert weak([p], False, 0.0)  # the named policy is not indexed
    assert weak([p], None, 0.1) and not weak([p], None, 0.04) and not weak([p], None, 0.0)


@pytest.mark.parametrize(
    ("titles", "text", "found"),
    [
        (["广东省数字经济促进条例"], "本省支持数字经济发展。", False),  # a policy's name, neither indexed nor mentioned
        (["关于废止〈网络游戏管理暂行办法〉的决定"], "网络游戏管理暂行办法", False),  # inner title only: still not it
        (["国家车联网产业标准体系建设指南（智能交通相关）"], "车联网", False),  # a policy name ending in （…）
        (["北京市体育健身行业预付费服务合同"], "鼓励签订合同示范文本。", None),  # a contract, not a policy: no constraint
        (["北京通"], "打开北京通APP。", True),  # mentioned by a top passage
    ],
)
def test_named_title_counts_as_missing_only_for_a_policy_name(titles: list[str], text: str, found: bool | None) -> None:
    from assistant.evidence import named_found

    p = passage(1, text)
    assert named_found(False, titles, [p]) is found
    assert named_found(True, titles, [p]) is True and named_found(None, [], [p]) is None
