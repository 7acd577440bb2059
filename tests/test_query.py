"""Question analysis (assistant/query.py): type, attribute, named document and subject, zh and en."""

from __future__ import annotations

import pytest

from assistant.query import Query, analyse, states_attribute

# (question, type, attribute) — labelled by hand.
LABELLED = [
    # fact: amounts, durations, dates, ratios, numbers, bodies, phone numbers
    ("广东省对经认定的首版次软件产品给予的奖励，单个产品最高是多少？", "fact", "amount"),
    ("保障中小企业款项支付条例规定大型企业应当在多长时间内支付款项？", "fact", "duration"),
    ("软件企业研发投入补助按上年度研发费用增量部分的多大比例给予？", "fact", "ratio"),
    ("《深圳经济特区数据条例》自何时起施行？", "fact", "date"),
    ("到2027年全省软件业务收入的目标是多少？", "fact", "amount"),
    ("违反本条例规定的，罚款多少？", "fact", "amount"),
    ("住房公积金贷款最长期限是多少年？", "fact", "duration"),
    ("北京市挖掘工程地下管线配合咨询热线是什么？", "fact", "phone"),
    ("数据交易场所的设立由哪个部门批准？", "fact", "body"),
    ("本办法的有效期是几年？", "fact", "duration"),
    ("计划培育多少家专精特新企业？", "fact", "number"),
    ("How much is the subsidy for each first-version software product?", "fact", "amount"),
    ("How long must a large enterprise take at most to pay a small company?", "fact", "duration"),
    ("What percentage of the export credit insurance premium is subsidised?", "fact", "ratio"),
    ("When does the regulation take effect?", "fact", "date"),
    ("How many senior software professionals are trained each year?", "fact", "number"),
    ("Which department is responsible for approving data exchanges?", "fact", "body"),
    # list / overview
    ("网络数据安全管理条例对个人信息处理者有哪些主要义务？", "list", None),
    ("《中华人民共和国反垄断法》规定了哪些法律责任？", "list", None),
    ("广东省支持开源鸿蒙发展的主要措施有哪些？", "list", None),
    ("该方案的主要任务包括哪些？", "list", None),
    ("不受尾号限行的车辆有哪些？", "list", None),
    ("What measures does Guangdong take to support software companies going global?", "list", None),
    ("What obligations do personal information handlers have?", "list", None),
    ("What penalties does the rare earth regulation set for illegal mining?", "list", None),
    # yes / no, eligibility
    ("已经办理了商业贷款，是否可以转成住房公积金个人住房贷款？", "yes_no", None),
    ("非京籍人员可以在北京购车吗？", "yes_no", None),
    ("外地企业能否申请算力券？", "yes_no", None),
    ("Can a company outside Guangdong apply for the computing voucher?", "yes_no", None),
    ("Is a foreign-invested enterprise eligible for the award?", "yes_no", None),
    # procedure
    ("初次申请机动车驾驶证如何办理？", "procedure", None),
    ("通过住房公积金网上业务系统如何变更委托收款日？", "procedure", None),
    ("办理运动员技术等级称号需要提交哪些材料？", "procedure", None),
    ("车辆被贴条后，网上未查询到相关违法记录怎么办？", "procedure", None),
    ("How do I apply for the computing power voucher?", "procedure", None),
    # definition / scope
    ("《北京市地方金融监督管理条例》适用范围是什么？", "definition", None),
    ("本办法所称工业软件是指什么？", "definition", None),
    ("What is meant by a first-version software product?", "definition", None),
    # comparison / change
    ("专利法实施细则2010年版与2002年版相比有何变化？", "comparison", None),
    ("反垄断法2022年修改增加了哪些内容？", "comparison", None),
    ("How did the 2022 amendment change the anti-monopoly law?", "comparison", None),
    # choice and true/false (the evaluator's formats)
    ("转制后企业执行的财务制度是______。\nA. 企业财务通则\nB. 企业会计制度\n请先写出正确选项的字母，再说明依据。", "choice", None),
    ("The fund may invest in:\nA. housing\nB. software\nAnswer with the letter of the correct option first, then give the reason.", "choice", None),
    ("贮存单位变更法定代表人时，需向省级环保部门重新申请许可证。\n请先回答“正确”或“错误”，再说明依据。", "true_false", None),
]


@pytest.mark.parametrize(("question", "kind", "attribute"), LABELLED, ids=[q[:24] for q, _, _ in LABELLED])
def test_labelled_questions(question: str, kind: str, attribute: str | None) -> None:
    a = analyse(question)
    assert (a.type, a.attribute) == (kind, attribute)


def test_at_least_forty_labelled_in_both_languages() -> None:
    en = [q for q, _, _ in LABELLED if analyse(q).language == "en"]
    assert len(LABELLED) >= 40 and len(en) >= 12 and len(LABELLED) - len(en) >= 25


def test_named_document_subject_and_options() -> None:
    a = analyse("根据《广东省软件产业促进办法》，对首版次软件产品的奖励最高是多少？")
    assert a.named_titles == ["广东省软件产业促进办法"]
    assert "《" not in a.subject and a.subject.startswith("对首版次软件产品的奖励")
    c = analyse("转制后企业执行的财务制度是______。\nA. 企业财务通则\nB. 企业会计制度\n请先写出正确选项的字母，再说明依据。")
    assert c.choices == [("A", "企业财务通则"), ("B", "企业会计制度")] and c.stem.startswith("转制后")


def test_query_is_analysed_once_and_embeds_once() -> None:
    calls: list[str] = []

    def embed(text: str):
        calls.append(text)
        return [1.0]

    q = Query.make("它的第五条讲了什么？", "它的第五条讲了什么？ 《广东省软件产业促进办法》")
    assert q.language == "zh" and q.units
    q.vector(embed)
    q.vector(embed)
    assert calls == [q.standalone]


def test_choice_retrieval_text_drops_the_instructions() -> None:
    q = Query.make("转制后执行的财务制度是______。\nA. 企业财务通则\nB. 企业会计制度\n请先写出正确选项的字母，再说明依据。")
    assert "企业财务通则" in q.retrieval_text and "请先写出" not in q.retrieval_text


def test_english_question_keeps_english_answers_over_a_chinese_title() -> None:
    q = Query.make("According to 《广东省软件产业促进办法》, how much is the award?")
    assert q.language == "en" and q.analysis.attribute == "amount"


@pytest.mark.parametrize(
    ("attribute", "text", "expected"),
    [("duration", "应当自交付之日起30日内支付款项", True), ("duration", "应当及时支付款项", False),
     ("amount", "单个产品最高300万元", True), ("amount", "给予奖励", False), ("ratio", "按20%给予补助", True),
     ("date", "自2019年3月1日起施行", True), ("number", "每年培养高端软件人才2000名", True),
     ("number", "给予最高300万元补助", True), ("number", "给予补助", False), ("duration", "within 30 days of delivery", True),
     ("duration", "submit it for the record by 30 June 2025", True),
     ("amount", "并处违法所得5倍以上10倍以下的罚款", True), ("amount", "a fine of 5 to 10 times the illegal gains", True),
     ("amount", "处上一年度销售额百分之十以下的罚款", True), ("amount", "增长2倍", False), ("amount", "占比10%", False)],  # a fine may be a multiple of the gains; a growth multiple is not an amount  # a deadline may be the date it ends on
)  # fmt: skip
def test_states_attribute(attribute: str, text: str, expected: bool) -> None:
    assert states_attribute(attribute, text) is expected


def test_a_counting_unit_named_in_the_question_is_required() -> None:
    a = analyse("开源鸿蒙发行版的补助每年给予几次？")
    assert (a.attribute, a.unit) == ("number", "次")
    assert not states_attribute(a.attribute, "每年培养高端软件人才2000名", a.unit)
    assert states_attribute(a.attribute, "每年评审两次", a.unit)
