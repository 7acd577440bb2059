"""Key policy terms across languages: English questions over Chinese documents."""

from __future__ import annotations

from pathlib import Path

from assistant.glossary import chinese_query, term_share, weigh_across

RARE_EARTH = """稀土管理条例

第八条 国务院工业和信息化主管部门会同有关部门确定稀土开采企业和稀土冶炼分离企业，并向社会公布。其他组织和个人不得从事稀土开采和稀土冶炼分离。

第九条 稀土开采企业应当依照矿产资源管理法律、行政法规和国家有关规定取得采矿权、采矿许可证。

投资稀土开采、冶炼分离等项目，应当遵守投资项目管理的法律、行政法规和国家有关规定。

第十条 国家根据稀土资源储量和种类差异、产业发展、生态保护、市场需求等因素，对稀土开采和稀土冶炼分离实行总量调控。

第二十条 违反本条例规定，有下列行为之一的，由自然资源主管部门依法予以处罚：

（一）稀土开采企业未取得采矿权、采矿许可证开采稀土资源，或者超出采矿权登记的开采范围开采稀土资源；

（二）稀土开采企业以外的组织和个人从事稀土资源开采。

第二十五条 稀土行业协会应当加强行业自律，引导企业守法经营。
"""


def test_chinese_query_needs_two_terms() -> None:
    query = chinese_query("What penalties does the rare earth regulation set for illegal mining?")
    assert {"处罚", "罚款", "稀土", "开采", "违法"} <= set(query.split())
    assert chinese_query("What is the data policy?") == ""  # one common term says too little


def test_term_share_and_weighting() -> None:
    question = "What penalties does the rare earth regulation set for illegal mining?"
    licence = "稀土开采企业应当依照国家有关规定取得采矿权、采矿许可证。"
    penalty = "违反本条例规定，未取得采矿许可证开采稀土资源的，依法予以处罚。"
    assert term_share(question, licence) == 0.5  # rare earth, mining; no penalty, nothing illegal
    assert term_share(question, penalty) == 1.0
    assert term_share("How are you?", penalty) is None
    assert weigh_across(question, penalty, 0.4) > weigh_across(question, licence, 0.5)
    assert weigh_across("How are you?", licence, 0.5) == 0.5


def test_english_penalty_question_is_answered_from_the_penalty_article(tmp_path: Path) -> None:
    from assistant.engine import Engine
    from assistant.ingest import ingest
    from tests.conftest import make_settings

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "稀土管理条例.txt").write_text(RARE_EARTH, encoding="utf-8")
    settings = make_settings(tmp_path / "idx", llm={"backend": "extractive"})
    assert ingest([folder], settings).ok
    engine = Engine(settings)
    try:
        answer = engine.ask("What penalties does the rare earth regulation set for illegal mining?")
    finally:
        engine.close()
    assert not answer.refused
    cited = {c.passage.section.split(">")[-1].strip() for c in answer.citations}
    assert cited == {"第二十条"}, (answer.text, cited)


def test_an_english_name_of_a_chinese_document() -> None:
    from assistant.glossary import names_title

    question = "What are the legal liabilities in the rare earth regulation?"
    assert names_title(question, "稀土管理条例")
    assert not names_title(question, "农业保险条例")  # a regulation, but not about rare earths
    assert not names_title(question, "稀土行业发展规划")  # about rare earths, but a plan
    assert names_title("What does the personal information protection law require?", "中华人民共和国个人信息保护法")
    assert not names_title("What does the regulation say?", "稀土管理条例")  # no words name it
    assert names_title("Under the software subsidy measures, who applies?", "广东省软件企业补贴办法")
    assert names_title("What do the data rules require?", "数据出境安全评估规定")
    assert names_title("What do the data provisions require?", "数据出境安全评估规定")
