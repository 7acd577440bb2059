"""The answer stage (assistant/answering.py, lists.py, evidence.py): evidence planned by question type,
lists from the document's structure, and the check that an answer answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant import answering, choice, evidence
from assistant.citations import check_support
from assistant.engine import Engine
from assistant.ingest import ingest
from assistant.query import Query
from assistant.types import Citation, Passage

from .conftest import make_settings

RARE_EARTH = """稀土管理条例（示例）

第一章 总则

第一条　为了有效保护和合理开发利用稀土资源，制定本条例。

第二章 开采

第九条　开采稀土资源，应当依法取得采矿许可证，并按照国家规定的开采总量指标开采。

第十条　稀土开采企业应当建立产品流向记录制度。

第三章 法律责任

第三十条　违反本条例规定，擅自开采稀土的，由自然资源主管部门责令停止违法行为，没收违法开采的稀土产品和违法所得，并处违法所得5倍以上10倍以下罚款。

第三十一条　稀土冶炼分离企业超过总量指标生产的，由工业和信息化主管部门责令改正，没收违法生产的稀土产品和违法所得，并处罚款。

第三十二条　违反本条例规定，未建立产品流向记录制度的，责令改正，处5万元以上20万元以下罚款。

第四章 附则

第三十三条　本条例自2024年10月1日起施行。
"""

FAQ = """北京市政务问答（示例）

您好！办理居住证需要提交以下材料：（一）本人居民身份证；（二）近期一寸白底照片；（三）合法稳定住所证明，如房屋租赁合同；（四）在京就业或就读证明。申请人可到居住地派出所办理，也可以网上预约。

您好！住房公积金个人住房贷款最长期限为30年，且不超过借款人法定退休年龄后5年。
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, small_corpus: Path):
    docs = tmp_path_factory.mktemp("answering_docs")
    (docs / "rare-earth.txt").write_text(RARE_EARTH, encoding="utf-8")
    (docs / "bj-faq.txt").write_text(FAQ, encoding="utf-8")
    for f in small_corpus.iterdir():
        (docs / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    settings = make_settings(tmp_path_factory.mktemp("answering_idx"), llm={"backend": "extractive"})
    assert ingest([docs], settings).ok
    e = Engine(settings)
    yield e
    e.close()


def test_list_question_lists_every_article_of_the_targeted_chapter(engine: Engine) -> None:
    answer = engine.ask("《稀土管理条例（示例）》规定了哪些法律责任？")
    assert answer.backend == "structure" and not answer.refused
    by_n = {c.n: c.passage.section.split(">")[-1].strip() for c in answer.citations if c.supported}
    assert sorted(by_n.values()) == sorted(["第三十条", "第三十一条", "第三十二条"])
    lines = answer.text.splitlines()
    assert lines[0].startswith("《稀土管理条例（示例）》“第三章 法律责任”") and len(lines) == 4
    for line, label in zip(lines[1:], ["第三十条", "第三十一条", "第三十二条"], strict=True):  # document order
        n = int(re.findall(r"\[(\d+)\]", line)[-1])
        assert f"{label}：" in line and by_n[n] == label


def test_list_question_follows_the_best_passages_chapter_when_no_heading_matches(engine: Engine) -> None:
    answer = engine.ask("《广东省软件产业促进办法（示例）》有哪些支持措施？")
    sections = {c.passage.section.split(">")[-1].strip() for c in answer.citations if c.supported}
    assert sections == {"第三条", "第四条", "第五条"}


def test_list_items_enumerated_inside_one_passage(engine: Engine) -> None:
    answer = engine.ask("办理居住证需要提交哪些材料？")
    assert answer.backend == "structure"
    lines = answer.text.splitlines()
    assert lines[0] == "您好！办理居住证需要提交以下材料："
    assert [line[:2] for line in lines[1:]] == ["1.", "2.", "3.", "4."]
    assert "居民身份证" in answer.text and "就读证明" in answer.text


def test_fact_evidence_prefers_the_sentence_that_states_the_attribute(engine: Engine) -> None:
    query = engine.query("住房公积金个人住房贷款最长期限是多长时间？")
    engine.retrieve(query)
    request = engine.build_request(query, engine.retrieve(query).passages)
    assert any("30年" in text for _, text in request.evidence)


def test_budget_grows_with_the_question_type() -> None:
    fact, steps = Query.make("补贴多少钱？"), Query.make("如何办理居住证？")
    assert answering.budget(steps, 120) > answering.budget(fact, 120) == 120


def _citation(passage: Passage, supported: bool = True) -> Citation:
    return Citation(n=1, passage=passage, quote=passage.text[:10], span=(0, 10), supported=supported)


def test_answers_requires_the_attribute_asked_for() -> None:
    passage = Passage(chunk_id="d#1", doc_id="d", text="大型企业应当及时支付中小企业款项，支付期限最长不得超过60日。", score=1.0)
    query = Query.make("保障中小企业款项支付条例规定大型企业应当在多长时间内支付款项？")
    assert not answering.answers(query, "大型企业应当及时支付中小企业款项[1]。", [_citation(passage)])
    assert answering.answers(query, "大型企业应当在60日内支付款项[1]。", [_citation(passage)])
    assert not answering.answers(query, "大型企业应当在60日内支付款项[1]。", [_citation(passage, supported=False)])


def test_answers_rejects_a_passage_about_another_place() -> None:
    guangdong = Passage(chunk_id="g#1", doc_id="g", title="广东省软件产业促进办法", text="对首版次软件产品最高奖励300万元。", score=1.0)
    query = Query.make("How much does Hainan province grant for each first-version software product?")
    assert answering.wrong_place(query, guangdong)
    assert not answering.answers(query, "Up to RMB 3 million[1].", [_citation(guangdong)])
    assert not answering.wrong_place(Query.make("广东省对首版次软件产品奖励多少？"), guangdong)


def test_quote_answer_takes_the_next_best_sentence_that_states_the_value(engine: Engine) -> None:
    query = engine.query("稀土开采企业未建立产品流向记录制度的，罚款多少？")
    passages = engine.retrieve(query).passages
    for p in passages:
        p.evidence = evidence.score(query, p)
    n, sentence = answering.quote_answer(query, passages)
    assert "5万元以上20万元以下罚款" in sentence and passages[n - 1].section.endswith("第三十二条")


def test_cross_language_claim_must_match_key_terms_and_the_real_embedder(engine: Engine) -> None:
    passages = engine.retrieve("稀土 开采 采矿许可证 第九条 第三十条").passages
    art9 = next(p for p in passages if p.section.endswith("第九条"))
    art30 = next(p for p in passages if p.section.endswith("第三十条"))
    wrong = "Illegal mining is punished by confiscation of mining licenses and fines."
    assert not check_support(wrong, art9, engine.similarity)[0]  # the rare-earth case
    right = "Unauthorised rare earth mining is punished by confiscating the illegally mined products and illegal gains, plus a fine."
    assert check_support(right, art30, engine.similarity)[0]


def test_choice_options_and_reason() -> None:
    q = Query.make("稀土开采应当取得什么证照？\nA. 采矿许可证\nB. 营业执照\n请先写出正确选项的字母，再说明依据。")
    assert choice.options(q) == [("A", "采矿许可证"), ("B", "营业执照")]
    tf = Query.make("开采稀土无需许可。\n请先回答“正确”或“错误”，再说明依据。")
    assert [w for w, _ in choice.options(tf)] == ["正确", "错误"]
    p = Passage(chunk_id="r#9", doc_id="r", text="开采稀土资源，应当依法取得采矿许可证。", score=1.0)
    why = choice.reason(q, [p], [1], "采矿许可证")
    assert why == (1, "开采稀土资源，应当依法取得采矿许可证。")
    assert choice.render_choice(q, "A", "采矿许可证", why, cite_option=True) == "A. 采矿许可证[1]。依据：“开采稀土资源，应当依法取得采矿许可证。”[1]"
    assert choice.render_choice(q, "A", "采矿许可证", why).startswith("A. 采矿许可证。依据")  # not held: uncited


def test_option_evidence_without_a_model() -> None:
    talent = Passage(chunk_id="g#3", doc_id="g", text="实施软件人才“广聚计划”，每年培养软件人才10万人。对首版次软件给予奖励5万元。", score=1.0)
    q = Query.make("行动方案提出每年培养软件人才多少人？\nA. 5万人\nB. 10万人\nC. 15万人\n请先写出正确选项的字母，再说明依据。")
    scores = choice.option_evidence(q, [talent])
    assert scores[1] > 0.3 and scores[0] == scores[2] == 0.0  # the figure with its unit, in a sentence on the question
    licence = Passage(chunk_id="r#9", doc_id="r", text="开采稀土资源，应当依法取得采矿许可证。", score=1.0)
    q = Query.make("稀土开采应当取得什么证照？\nA. 采矿许可证\nB. 营业执照\n请先写出正确选项的字母，再说明依据。")
    first, second = choice.option_evidence(q, [licence])
    assert first > 0.5 and second == 0.0
    # True/false: the statement as the passage has it, or turned around by 不得 / other figures.
    vouchers = Passage(chunk_id="s#9", doc_id="s", text="算力券有效期为自发放之日起12个月，逾期未使用的额度自动作废，不得延期使用。", score=1.0)
    tf = "\n请先回答“正确”或“错误”，再说明依据。"
    true, false = choice.option_evidence(Query.make("判断：算力券有效期为自发放之日起12个月。" + tf), [vouchers])
    assert true > 0.5 and false == 0.0
    true, false = choice.option_evidence(Query.make("判断：算力券逾期未使用的额度可以申请延期使用。" + tf), [vouchers])
    assert true == 0.0 and false > 0.5
    true, false = choice.option_evidence(Query.make("判断：算力券有效期为自发放之日起6个月。" + tf), [vouchers])
    assert true == 0.0 and false > 0.5
    # Across languages only figures compare: an English statement gets no vote.
    assert choice.option_evidence(Query.make("True or false: vouchers can be extended.\nAnswer True or False."), [vouchers]) == [0.0, 0.0]


def test_a_model_going_round_in_a_loop_is_cut_at_the_first_repeat() -> None:
    looping = (
        "申请网络预约出租汽车驾驶员证需具备以下条件：[3]\n1. 已取得出租汽车驾驶员从业资格的人员[1]；\n"
        "2. 2016年12月21日前已受理的人员[1]；\n3. 申请网络预约出租汽车驾驶员证需具备以下条件：[5]\n1. 已取得"
    )
    cut = answering.repeat_start(looping)
    assert cut is not None and looping[:cut].rstrip().endswith("已受理的人员[1]；")
    # Items that share words, short repeated phrases and a clean list are not loops.
    assert answering.repeat_start("1. 对企业给予补助[1]；\n2. 对个人给予补助[2]；\n3. 对高校给予奖励[3]。") is None
    assert answering.repeat_start("可以。可以。") is None


def test_a_supported_answer_without_the_value_asked_says_the_value_is_not_given(engine: Engine) -> None:
    # The FAQ says where to apply but gives no date: the answer says so and gives what it does say.
    answer = engine.ask("居住证申请人什么时候去派出所办理？")
    assert not answer.refused and answer.not_stated  # the evaluation counts it as declining the question
    assert answer.text.startswith("文件没有写明具体日期；相关规定如下：") and "派出所" in answer.text
    assert any(c.supported for c in answer.citations)
    # A supported "claim" that only names the document is not something said.
    title = Passage(chunk_id="f#0", doc_id="f", title="北京市政务问答（示例）", text="北京市政务问答（示例）\n您好！", score=1.0)
    assert not answering.says_something("北京市政务问答（示例）[1]", [_citation(title)])
