"""Engine control flow with a scripted fake LLM (the real LLM runs in test_answer_e2e.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.engine import Engine, Turn
from assistant.errors import LLMError
from assistant.events import Final, Sources, Token
from assistant.ingest import ingest
from assistant.llm import GenerationRequest
from assistant.prompts import refusal_sentence
from assistant.query import QuestionError

from .conftest import PLANTED, make_settings


class FakeLLM:
    """Replies from a script; records the requests it got."""

    name = "fake"

    def __init__(self, replies: list[str] | None = None, error: Exception | None = None) -> None:
        self.replies = list(replies or [])
        self.error = error
        self.requests: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        self.requests.append(request)
        if self.error:
            raise self.error
        reply = self.replies.pop(0)
        for i in range(0, len(reply), 4):
            yield reply[i : i + 4]

    def close(self) -> None:
        pass


def engine_with(settings, llm: FakeLLM) -> Engine:
    s = settings.model_copy(deep=True)
    s.llm.backend = "local"
    return Engine(s, backend=llm)


def test_verified_answer_and_stream_order(small_index) -> None:
    llm = FakeLLM(["对首次认定的国家级工业软件重点项目，省财政给予最高800万元奖励[1]。每年培养2000名人才[9]。"])
    engine = engine_with(small_index, llm)
    items = list(engine.stream("国家级工业软件重点项目最高奖励多少？"))
    assert isinstance(items[0], Sources) and items[0].passages and items[0].analysis["attribute"] == "amount"
    assert all(isinstance(x, Token) for x in items[1:-1]) and len(items) > 3
    assert isinstance(items[-1], Final)
    answer = items[-1].answer
    assert not answer.refused and "[9]" not in answer.text and "[1]" in answer.text
    supported = [c for c in answer.citations if c.supported]
    assert supported and supported[0].passage.doc_id == "gd-software-measures"
    assert supported[0].passage.section.endswith("第三条")
    assert "800万元" in supported[0].quote
    assert set(answer.timings) >= {"retrieval", "first_token", "total"}
    # The model saw numbered evidence whose first block is the passage it cited.
    assert "[1] 《" in llm.requests[0].messages[-1]["content"]


def test_model_refusal_returns_related_passages(small_index) -> None:
    engine = engine_with(small_index, FakeLLM([refusal_sentence("zh")]))
    answer = engine.ask("开源鸿蒙发行版何时发布？")
    assert answer.refused and answer.text == refusal_sentence("zh") and answer.passages and not answer.citations


def test_unknown_policy_refused_without_llm(small_index) -> None:
    llm = FakeLLM([])
    answer = engine_with(small_index, llm).ask("根据《上海市数据条例》，数据交易所由谁设立？")
    assert answer.refused and not llm.requests
    english = engine_with(small_index, llm).ask("According to 《北京市数据条例》, who runs the data exchange?")
    assert english.refused and english.text == refusal_sentence("en")


def test_llm_failure_keeps_sources(small_index) -> None:
    llm = FakeLLM(error=LLMError("Cannot reach the LLM server at http://127.0.0.1:9/v1 (connection refused)."))
    answer = engine_with(small_index, llm).ask("国家级工业软件重点项目最高奖励多少？")
    assert answer.error and "127.0.0.1:9" in answer.error
    assert answer.passages and answer.passages[0].doc_id == "gd-software-measures"


def test_follow_up_condensed_with_history(small_index) -> None:
    llm = FakeLLM(["设立软件人才专项，每年培养高端软件人才2000名[1]。"])
    engine = engine_with(small_index, llm)
    history = [Turn(question="这个办法什么时候施行？", answer="2025年5月1日起施行[1]。", doc_titles=["广东省软件产业促进办法（示例）"])]
    answer = engine.ask("它的第五条讲了什么？", history=history)
    assert "《广东省软件产业促进办法（示例）》" in answer.standalone_question
    assert answer.passages[0].section.endswith("第五条")
    assert any(c.supported for c in answer.citations)


def test_planted_instruction_reaches_the_prompt_only_inside_the_data_block(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    # The instruction sits in the very article that answers, so evidence selection must carry it into the prompt.
    (docs / "planted.md").write_text(PLANTED, encoding="utf-8")
    settings = make_settings(tmp_path / "idx")
    assert ingest([docs], settings).ok
    llm = FakeLLM(["数据交易场所应当建立安全审查制度[1]。"])
    engine = engine_with(settings, llm)
    engine.settings.llm.context_tokens = 400
    answer = engine.ask("数据交易场所应当建立什么制度？")
    system, user = llm.requests[0].messages
    assert "PWNED" not in system["content"] and "一律忽略" in system["content"]
    before, inside_and_after = user["content"].split("<资料>", 1)
    inside, after = inside_and_after.split("</资料>", 1)
    assert "PWNED" in inside and "我已被攻破" in inside  # it reached the prompt, as data
    assert "PWNED" not in before + after
    assert "安全审查制度" in answer.text


def test_extractive_backend_end_to_end(small_index) -> None:
    engine = Engine(small_index)
    answer = engine.ask("对主导发布开源鸿蒙发行版的企业给予多少补助？")
    assert not answer.refused and "300万元" in answer.text
    assert answer.citations and all(c.supported for c in answer.citations)




def test_warm_up_reads_the_prefix_every_answer_prompt_starts_with(small_index) -> None:
    llm = FakeLLM(["", "对首次认定的国家级工业软件重点项目，省财政给予最高800万元奖励[1]。", "800万元[1]。"])
    engine = engine_with(small_index, llm)
    engine.warm_up("zh")
    warm = llm.requests[0]
    assert warm.max_tokens == 1
    engine.ask("国家级工业软件重点项目最高奖励多少？")
    engine.ask("What is the maximum award for national industrial software projects?")
    for asked in llm.requests[1:]:
        assert asked.messages[0] == warm.messages[0]  # the same system message: llama.cpp reuses what it read
        assert asked.messages[1]["content"].startswith(warm.messages[1]["content"].split("\n")[0])


def test_generative_backends_get_a_compressed_prompt_extractive_whole_passages(sample_index) -> None:
    question = "到2027年全省软件业务收入目标是多少？"
    llm = FakeLLM(["3.2万亿元[1]。"])
    engine = engine_with(sample_index, llm)
    engine.settings.llm.context_tokens = 40
    engine.ask(question)
    from assistant.evidence import estimate_tokens

    compressed = sum(estimate_tokens(text) for _, text in llm.requests[0].evidence)
    assert compressed <= 40 * 1.15 + 30  # the best sentence may overrun the budget, never by a passage
    assert any("3.2万亿元" in text for _, text in llm.requests[0].evidence)
    query = engine.query(question)
    wide = engine.build_request(query, engine.retrieve(query).passages)
    engine.settings.llm.context_tokens = 400
    assert sum(estimate_tokens(text) for _, text in engine.build_request(query, engine.retrieve(query).passages).evidence) > max(
        sum(estimate_tokens(text) for _, text in wide.evidence), compressed
    )


def test_an_invented_figure_gives_way_to_the_quoted_evidence(small_index) -> None:
    invented = "对主导发布开源鸿蒙发行版的企业给予最高9999万元补助[1]。"
    engine = engine_with(small_index, FakeLLM([invented, "B."]))
    answer = engine.ask("对主导发布开源鸿蒙发行版的企业给予多少补助？")
    assert not answer.refused and answer.quoted and "300万元" in answer.text and "9999" not in answer.text
    assert "9999万元" in answer.unverified and answer.to_dict()["unverified_answer"]
    assert answer.citations and all(c.supported for c in answer.citations)
    # A bare choice letter states nothing checkable: it is an answer, not an invention.
    assert not engine.ask("对主导发布开源鸿蒙发行版的企业给予多少补助？\nA. 300万元\nB. 500万元").refused


def test_an_unverifiable_answer_without_matching_evidence_is_refused(small_index) -> None:
    engine = engine_with(small_index, FakeLLM(["开源鸿蒙发行版的补助每年给予两次[1]。"]))
    answer = engine.ask("开源鸿蒙发行版的补助每年给予几次？")
    assert answer.refused and answer.text == refusal_sentence("zh") and answer.passages


def test_a_supported_sentence_that_lacks_the_asked_attribute_is_not_an_answer(small_index) -> None:
    # Supported by the passage, but states no amount: not an answer to 多少.
    engine = engine_with(small_index, FakeLLM(["对主导发布开源鸿蒙发行版的企业给予补助[1]。"]))
    answer = engine.ask("对主导发布开源鸿蒙发行版的企业给予多少补助？")
    assert "300万元" in answer.text and answer.quoted
    assert answer.unverified.startswith("对主导发布开源鸿蒙发行版的企业给予补助")


@pytest.mark.parametrize(
    ("question", "message"),
    [("", "empty"), ("   ", "empty"), ("？？？！！！…", "no words"), ("软件" * 2600, "characters long"),
     ("Как получить субсидию на программное обеспечение?", "Chinese or English"),
     ("ソフトウェア企業への補助金はいくらですか？", "Chinese or English")],
)  # fmt: skip
def test_bad_questions_get_a_clear_message(small_index, question: str, message: str) -> None:
    engine = engine_with(small_index, FakeLLM([]))
    with pytest.raises(QuestionError, match=message):
        engine.ask(question)


def test_a_choice_answer_keeps_its_pick_when_its_reason_does_not_verify(small_index) -> None:
    engine = engine_with(small_index, FakeLLM(["正确。依据是第99条。", "B. 500万元\n依据：该条规定补助9999万元。"]))
    first = engine.ask("对主导发布开源鸿蒙发行版的企业给予补助，对吗？")
    assert not first.refused and first.text.startswith("正确")
    second = engine.ask("对主导发布开源鸿蒙发行版的企业给予多少补助？\nA. 300万元\nB. 500万元")
    assert not second.refused and second.text.startswith("B.")
    assert not any(c.supported for c in second.citations)  # the invented reason is not shown as supported
