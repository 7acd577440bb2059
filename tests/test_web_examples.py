"""The web UI's example questions and sample notice follow what the index holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.web.examples import SAMPLE_CORPUS, example_questions, shows_sample_notice
from assistant.web.i18n import EXAMPLES


@dataclass
class Doc:
    path: str
    title: str
    meta: dict[str, str] = field(default_factory=dict)


SAMPLE = Doc(str(SAMPLE_CORPUS / "gd-openharmony.md"), "广东省推进开源鸿蒙适配应用工作方案")
OWN_ZH = Doc("/data/policies/beijing-ai.pdf", "北京市人工智能产业发展措施", {"language": "zh"})
OWN_EN = Doc("/data/policies/uk-ai.html", "UK AI Regulation White Paper", {"language": "en"})


def test_sample_corpus_keeps_its_checked_questions_and_notice() -> None:
    assert example_questions([SAMPLE, OWN_ZH]) == EXAMPLES
    assert shows_sample_notice([SAMPLE])


def test_another_index_gets_questions_about_its_documents_and_no_notice() -> None:
    questions = example_questions([OWN_ZH, OWN_EN])
    assert questions == [
        "《北京市人工智能产业发展措施》的主要措施有哪些？",
        "What are the main measures of “UK AI Regulation White Paper”?",
    ]
    assert not shows_sample_notice([OWN_ZH, OWN_EN])
    assert example_questions([]) == [] and not shows_sample_notice([])


def test_configured_examples_win() -> None:
    assert example_questions([SAMPLE], ["a?", "b?", "c?", "d?", "e?"]) == ["a?", "b?", "c?", "d?"]
