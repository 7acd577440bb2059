"""Choice questions: a fill-in option read into its blank, a fill-in question whose source is not indexed, and how
the model's scores and the evidence are combined."""

from __future__ import annotations

from assistant import choice
from assistant.query import CHOICE, TRUE_FALSE, Query
from assistant.types import Passage

ASK = "\n请先写出正确选项的字母，再说明依据。"
FILING = Passage(
    chunk_id="l#98", doc_id="l", score=1.0,
    text="第九十八条 自治州、自治县的人民代表大会制定的自治条例和单行条例，由省、自治区、直辖市的人民代表大会常务委员会"
    "报全国人民代表大会常务委员会和国务院备案。",
)  # fmt: skip
SUBSIDY = Passage(chunk_id="g#7", doc_id="g", score=1.0, text="对主导发布开源鸿蒙发行版的企业，按其研发投入的30%给予最高500万元补助。")


def test_the_option_that_reads_as_the_source_in_the_blank_fits_best() -> None:
    q = Query.make(
        "自治条例和单行条例由____报全国人民代表大会常务委员会和国务院备案。\nA. 省、自治区、直辖市的人民代表大会"
        "\nB. 省、自治区、直辖市的人民代表大会常务委员会\nC. 自治州和自治县的人民代表大会常务委员会" + ASK
    )
    fit = choice.blank_fit(q, [FILING])
    assert fit is not None
    assert fit[1] == 1.0  # found whole, and "由…" before it and "…报全国" after it continue it in the source
    assert fit[0] < 0.6 and fit[2] < 0.6  # A stops short of "报"; C is not written so
    evidence = choice.option_evidence(q, [FILING])
    assert max(range(3), key=evidence.__getitem__) == 1


def test_no_blank_no_fit() -> None:
    q = Query.make("稀土开采应当取得什么证照？\nA. 采矿许可证\nB. 营业执照" + ASK)
    assert choice.blank_fit(q, [FILING]) is None
    assert not choice.source_missing(q, [FILING])


def test_a_fill_in_question_whose_source_is_not_indexed_is_missing() -> None:
    # The words around the blank are in the passage: its source is here, whatever option is right.
    here = Query.make("对主导发布开源鸿蒙发行版的企业，按其研发投入的____给予补助。\nA. 20%\nB. 30%" + ASK)
    assert not choice.source_missing(here, [SUBSIDY])
    # A question quoting another plan: neither side of the blank is in the passages, and no option fits.
    elsewhere = Query.make(
        "在符合光伏“领跑者”计划要求的前提下，优先支持基于智能光伏的______产品。\nA. 创新光伏\nB. 先进光伏\nC. 高效光伏" + ASK
    )
    assert choice.source_missing(elsewhere, [SUBSIDY, FILING])
    # Across languages nothing can be compared verbatim: not judged missing.
    english = Query.make("Vouchers are valid for ____ months.\nA. 6\nB. 12\nAnswer with the letter.")
    assert not choice.source_missing(english, [SUBSIDY])


def test_the_engine_refuses_a_fill_in_question_about_a_document_it_does_not_hold(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from assistant.config import load_settings
    from assistant.engine import Engine
    from assistant.ingest import ingest

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "plan.md").write_text("# 开源鸿蒙发展措施\n\n" + SUBSIDY.text + "\n", encoding="utf-8")
    # A plan on the same subject, so retrieval finds passages; but not the plan the question quotes.
    solar = "# 智能光伏推广措施\n\n支持智能光伏在工业园区示范应用，对光伏“领跑者”计划项目给予补助。优先支持先进技术。\n"
    (tmp_path / "docs" / "solar.md").write_text(solar, encoding="utf-8")
    settings = load_settings(store={"path": tmp_path / "index"}, llm={"backend": "extractive"})
    ingest([tmp_path / "docs"], settings)
    engine = Engine(settings)
    try:
        missing = engine.ask(
            "在符合光伏“领跑者”计划要求的前提下，优先支持基于智能光伏的______产品。\nA. 创新光伏\nB. 先进光伏" + ASK
        )
        assert missing.refused
        held = engine.ask("对主导发布开源鸿蒙发行版的企业，按其研发投入的____给予补助。\nA. 20%\nB. 30%" + ASK)
        assert not held.refused and held.text.startswith("B.")
    finally:
        engine.close()


def test_combine_weighs_the_evidence_on_choice_and_corrects_the_true_bias_on_true_false() -> None:
    assert choice.combine(CHOICE, [-1.0, -0.5], [1.0, 0.0], 2.0, 0.5) == [1.0, -0.5]
    # True/false: the model alone, and it must prefer "true" by the bias.
    assert choice.combine(TRUE_FALSE, [-0.4, -0.8], [0.0, 1.0], 2.0, 0.5) == [-0.9, -0.8]
    # No opinion from the backend (extractive): the evidence decides, on true/false too.
    assert choice.combine(TRUE_FALSE, [0.0, 0.0], [0.2, 0.7], 2.0, 0.5) == [0.4, 1.4]


def test_a_true_false_statement_whose_figure_the_source_states_otherwise_is_false() -> None:
    licence = Passage(
        chunk_id="e#15", doc_id="e", score=1.0,
        text="单项许可的有效期不超过1年，有效期内完成出口的，出口许可证件自动失效。通用许可的有效期不超过3年。",
    )  # fmt: skip
    tf = "\n请先回答“正确”或“错误”，再说明依据。"
    assert choice.figure_contradicted(Query.make("单项许可的有效期不超过3年。" + tf), [licence])
    assert not choice.figure_contradicted(Query.make("单项许可的有效期不超过1年。" + tf), [licence])
    assert not choice.figure_contradicted(Query.make("单项许可到期自动失效。" + tf), [licence])  # no figure: the model decides
    # The model's "true" is overruled; without the contradiction the model (with its bias) decides.
    assert choice.combine(TRUE_FALSE, [-0.1, -2.0], [0.0, 0.5], 2.0, 0.5, contradicted=True) == [0.0, 1.0]
    assert choice.combine(TRUE_FALSE, [-0.1, -2.0], [0.0, 0.5], 2.0, 0.5) == [-0.6, -2.0]


class PositionBiasedModel:
    """Prefers the first letters whatever they say (as the 1.5B model does), and knows a little: 'right' is right."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    def option_scores(self, request, words):  # type: ignore[no-untyped-def]
        self.questions.append(request.question)
        lines = [line for line in request.question.splitlines() if line[:2] in ("A.", "B.", "C.", "D.")]
        assert request.messages[-1]["content"].endswith(request.question)  # the prompt asks what is scored
        bias = [0.0, -0.5, -1.5, -2.5]
        return [b + (1.0 if "right" in line else 0.0) for b, line in zip(bias, lines, strict=True)]


def test_options_asked_in_several_orders_cancel_a_preference_for_the_first_letters() -> None:
    from assistant.llm.base import GenerationRequest

    question = "Which is right?\nA. wrong one\nB. wrong two\nC. right\nD. wrong three"
    query = Query.make(question)
    request = GenerationRequest(messages=[{"role": "user", "content": "<evidence>\n" + question}], question=question)
    model = PositionBiasedModel()
    once = choice.model_scores(model, request, query, orders=1)
    assert max(range(4), key=once.__getitem__) == 0  # asked once, the first letter wins
    model = PositionBiasedModel()
    moved = choice.model_scores(model, request, query, orders=4)
    assert max(range(4), key=moved.__getitem__) == 2  # every option in every place: the content decides
    assert len(model.questions) == 4 and model.questions[1].splitlines()[1] == "A. wrong two"
    model = PositionBiasedModel()
    twice = choice.model_scores(model, request, query, orders=2)  # A↔C, B↔D
    assert max(range(4), key=twice.__getitem__) == 2 and len(model.questions) == 2
