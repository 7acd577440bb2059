"""Question analysis, computed once per question and shared by retrieval, evidence planning,
generation and verification.

A `Query` holds the text as asked, the standalone question (after a follow-up is resolved),
its language, comparison units and their IDF weights, the query vector (embedded at most once),
and an `Analysis`: what kind of answer the question wants (a figure, a list, a yes/no, steps,
a definition, a comparison, a choice among options), which document it names, its subject, and
the attribute asked for (a duration for 多长时间, an amount for 最高多少 …).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .errors import AssistantError
from .textutil import content_units, language_of


class QuestionError(AssistantError):
    """A question that cannot be answered as asked (empty, too long, no words, another language)."""

# Question types, in the order they are tested (the first that matches wins).
FACT, LIST, YESNO, PROCEDURE, DEFINITION, COMPARISON, CHOICE, TRUE_FALSE, OTHER = (
    "fact", "list", "yes_no", "procedure", "definition", "comparison", "choice", "true_false", "other",
)  # fmt: skip
QUESTION_TYPES = (FACT, LIST, YESNO, PROCEDURE, DEFINITION, COMPARISON, CHOICE, TRUE_FALSE, OTHER)

# Attributes a fact question asks for, with the pattern of a phrase that states one.
_DATE = r"\d{4}\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?|[〇零一二三四五六七八九]{4}年|\b(?:19|20)\d{2}\b"
ATTRIBUTE_VALUE = {
    # A time limit is a span ("30个工作日内") or a date it ends on ("2025年6月30日前", "by 30 June 2025").
    "duration": r"\d+(?:\.\d+)?\s*(?:个)?(?:工作日|日|天|周|个月|月|年|小时|分钟)|[一二三四五六七八九十百两半]+\s*(?:个)?(?:工作日|日|天|周|个月|月|年|小时)"
    r"|\b\d+\s*(?:working\s+|business\s+)?(?:days?|weeks?|months?|years?|hours?)\b|" + _DATE,
    "date": _DATE,
    # A fine is often a multiple of the illegal gains or the goods' value ("违法所得5倍以上10倍以下的罚款"), or a share
    # of the turnover ("上一年度销售额百分之十以下的罚款").
    "amount": r"\d+(?:\.\d+)?\s*(?:万|亿|千|百)*\s*(?:元|美元)|[一二三四五六七八九十百千万亿两]+\s*(?:万|亿)?元"
    r"|(?:\d+(?:\.\d+)?|[一二三四五六七八九十两]+)\s*倍(?:以上|以下)?[^。；;\n]{0,16}(?:罚款|罚金|赔偿)"
    r"|(?:百分之[一二三四五六七八九十百点\d]+|\d+(?:\.\d+)?\s*[%％])(?:以上|以下)?[^。；;\n]{0,12}(?:罚款|罚金)"
    r"|(?:rmb|yuan|usd|\$)\s*\d|\d+(?:\.\d+)?\s*(?:million|billion)?\s*(?:yuan|rmb)"
    r"|\b(?:\d+|one|two|three|five|ten)\s*(?:to\s+(?:\d+|\w+)\s+)?times\b",
    "ratio": r"\d+(?:\.\d+)?\s*[%％]|百分之[一二三四五六七八九十百点\d]+|[一二三四五六七八九十]+\s*成|\bpercent\b",
    # A count or quantity of any kind (not an item label such as "(5)" or "第5条"); a question that names its
    # unit (几次, 多少家) is held to it (value_pattern).
    "number": r"(?<![(（第\d.])\d+(?:\.\d+)?\s*(?:[万亿千百]*\s*[\u4e00-\u9fff%％]|[a-z]{2,})|[一二三四五六七八九十百千万两]+\s*(?:个|家|项|人|名|次|倍|元|亿|万|所|台|件|户|条|套|款)",
    "body": r"(?:部门|机关|委员会|政府|机构|办公室|中心|局|厅|部|院|署|会)"
    r"|\b(?:department|ministry|bureau|commission|office|administration|government|agency|authority|committee|centre|center)\b",
    "phone": r"\d{3,4}[-－]?\d{7,8}|(?<!\d)(?:12\d{3}|96\d{3,4}|\d{7,8})(?!\d)",
}

_ASKS = [  # (attribute, question pattern)
    ("duration", r"多长时间|多久|几天|几个月|几年|期限|时限|有效期|多少(?:个)?(?:工作)?日|多少天|多少年|how long|within how many|deadline|time limit"),
    ("date", r"何时|什么时候|哪一天|哪年|哪一年|几月|日期|起施行|生效|^when\b|\bwhen (?:does|did|will|is|was|do|must|should)\b|what date|which year|effective"),
    ("ratio", r"比例|百分之|多少%|占比|percent|proportion|ratio|share of"),
    ("amount", r"多少钱|多少元|金额|(?:奖励|补贴|补助|资助|资金|罚款|费用|奖金|支持|贷款额度|收入|营收|产值|投资|经费).{0,12}多少|多少.{0,4}(?:奖励|补贴|补助|资金|钱)"
     r"|罚款|罚金|how much|amount|\bfines?\b|subsid|reward|grant|budget|预算"),
    ("phone", r"电话|热线|hotline|phone"),
    ("body", r"哪个部门|哪个机关|哪一部门|哪些部门|由谁|谁负责|主管部门|负责.*(?:部门|机关)|which (?:department|authority|body|agency)|who (?:is responsible|approves|issues)"),
    ("number", r"多少(?:个|家|项|人|名|次|倍)?|几(?:个|项|类|种|次)|数量|how many|number of|target"),
]

_LIST = r"有哪些|包括哪些|包含哪些|哪几|主要内容|主要(?:措施|任务|义务|职责|要求|内容)|哪些(?:措施|义务|职责|条件|情形|行为|材料|方面|内容|要求|责任|权利)|规定了哪些|列举|what (?:are|were) the|which (?:measures|obligations|conditions)|list\b|what measures|what obligations|what penalties|what (?:rights|duties|requirements)"
_PROCEDURE = r"如何办理|怎么办理|怎样办理|办理流程|流程|程序|步骤|手续|怎么办|如何申请|怎么申请|如何(?:查询|变更|提取|缴纳|认定|上传|办)|怎么(?:查|变更|提取|缴|上传|办)|需要(?:提交|提供|准备)?(?:哪些|什么)?材料|how (?:do|can|to|should) (?:i|we|you)|procedure|process|steps|apply for"
_DEFINITION = r"适用范围|适用于|是指|指的是|什么是|何谓|含义|定义|所称|范围是|what is meant|definition|defined as|what does .* mean|scope|apply to"
_COMPARISON = r"区别|不同|相比|变化|修改|修订|修正|对比|差异|新增|增加了哪些|删除了|\bdiffer|\bchang(?:e|ed|es)\b|compared|\bamend|versus|\bvs\b"
_YESNO = r"可以吗|能否|能不能|可否|是否|是不是|会不会|需不需要|要不要|有没有|吗[？?]?$|^(?:is|are|can|could|may|must|should|does|do|will|has|have)\b"
_OPEN = r"如何|怎么|怎样|哪些|什么|多少|几|\b(?:how|what|which|who|when|where)\b"
_TRUE_FALSE = r"请先回答“正确”或“错误”|Answer \"(?:True|正确)\" or|对吗|是否正确|判断(?:正误|对错)|true or false"

_OPTION = re.compile(r"^\s*([A-H])[.、．:：)）]\s*(.+?)\s*$", re.M)
_NAMED = re.compile(r"《([^》]{2,80})》")
_LEADS = re.compile(
    r"^(?:根据|依据|按照|请问|请教|我想问|想咨询|咨询一下|你好|您好)[，,：:\s]*|^(?:according to|under|per)\b[^,，]*[,，]\s*", re.I
)


@dataclass
class Analysis:
    """What the question asks for. `ask --json` shows it as `analysis`."""

    language: str
    type: str  # one of QUESTION_TYPES
    attribute: str | None = None  # duration, date, amount, ratio, phone, body, number (fact questions)
    named_titles: list[str] = field(default_factory=list)  # 《…》 in the question
    subject: str = ""  # the question without its title, lead words and question words
    unit: str | None = None  # the counting unit a number question names (几次 -> 次, 多少家 -> 家)
    choices: list[tuple[str, str]] = field(default_factory=list)  # (label, text) of a choice question's options
    stem: str = ""  # a choice question without its options and instructions

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["choices"] = [list(c) for c in self.choices]
        return d

    @property
    def wants_list(self) -> bool:
        return self.type in (LIST, PROCEDURE)


def with_options(question: str, texts: list[str]) -> str:
    """The question with its options' texts replaced, in order, by `texts` (the labels A, B … stay where they are)."""
    it = iter(texts)
    return _OPTION.sub(lambda m: m.group(0)[: m.start(2) - m.start(0)] + next(it, m.group(2)), question)


def analyse(question: str) -> Analysis:
    """Classify a question (zh or en). Pure and fast: regular expressions, no model."""
    text = question.strip()
    language = language_of(text)
    named = _NAMED.findall(text)
    options = _OPTION.findall(text)
    stem = text
    if len(options) >= 2:
        stem = text[: _OPTION.search(text).start()].strip()  # type: ignore[union-attr]
    first_line = stem.splitlines()[0] if stem else text
    lowered = first_line.lower()
    subject = _subject(first_line)
    if len(options) >= 2 and not re.search(_TRUE_FALSE, text, re.I):
        return Analysis(language, CHOICE, None, named, subject, None, [(a, b) for a, b in options], first_line)
    if re.search(_TRUE_FALSE, text, re.I):
        return Analysis(language, TRUE_FALSE, None, named, subject, None, [], first_line)

    def has(pattern: str) -> bool:
        return bool(re.search(pattern, lowered, re.I))

    attribute = next((name for name, pattern in _ASKS if has(pattern)), None)
    if has(_COMPARISON) and not has(r"如何办理|怎么办理"):
        kind = COMPARISON
    elif has(_YESNO) and not has(_OPEN):
        kind = YESNO
    elif has(_PROCEDURE):
        kind = PROCEDURE
    elif has(_LIST) and attribute not in ("duration", "date", "amount", "ratio", "phone"):
        kind = LIST
    elif has(_DEFINITION) and attribute is None:
        kind = DEFINITION
    elif attribute is not None:
        kind = FACT
    elif has(_YESNO):
        kind = YESNO
    elif has(r"什么|哪|多少|几|谁|what|which|who|how many|how much"):
        kind = FACT
    else:
        kind = OTHER
    if kind == YESNO or kind == COMPARISON and attribute not in ("date",):
        attribute = None if kind == YESNO else attribute
    unit = None
    if kind == FACT and attribute == "number" and (m := re.search(r"(?:几|多少)(个|家|项|人|名|次|所|台|件|户|条|倍|套|款)", first_line)):
        unit = m.group(1)
    return Analysis(language, kind, attribute if kind == FACT else None, named, subject, unit, [], first_line)


def _subject(text: str) -> str:
    text = _NAMED.sub(" ", text)
    text = _LEADS.sub("", text.strip())
    text = re.sub(r"[？?。！!，,：:\s]+$", "", text)
    return re.sub(r"\s+", " ", text).strip()


def value_pattern(attribute: str | None, unit: str | None = None) -> re.Pattern[str] | None:
    """The pattern of a phrase stating the value asked for (a count in `unit` when one was named)."""
    if unit:
        return re.compile(rf"\d+(?:\.\d+)?\s*(?:万|亿)?\s*{unit}|[一二三四五六七八九十百千两]+\s*{unit}")
    return re.compile(ATTRIBUTE_VALUE[attribute], re.I) if attribute else None


def states_attribute(attribute: str | None, text: str, unit: str | None = None) -> bool:
    """Whether `text` states a value of the kind asked for (always True when nothing specific was asked)."""
    pattern = value_pattern(attribute, unit)
    return pattern is None or bool(pattern.search(text))


EmbedFn = Callable[[str], np.ndarray]


@dataclass
class Query:
    """One question, analysed once and passed down through retrieval, evidence, generation and checking."""

    text: str  # as the user asked it
    standalone: str  # resolved against the conversation (equal to `text` for a first question)
    analysis: Analysis
    units: set[str]  # content units of the standalone question (character bigrams, English words)
    idf: dict[str, float] = field(default_factory=dict)  # their weights in the index (set by retrieval)
    _vector: np.ndarray | None = field(default=None, repr=False)

    @property
    def language(self) -> str:
        return self.analysis.language

    @classmethod
    def make(cls, text: str, standalone: str | None = None) -> Query:
        standalone = (standalone or text).strip()
        analysis = analyse(standalone)
        analysis.language = language_of(text)  # the user's language decides the answer's
        return cls(text=text.strip(), standalone=standalone, analysis=analysis, units=content_units(standalone))

    def vector(self, embed: EmbedFn) -> np.ndarray:
        """The standalone question's embedding, computed on first use only."""
        if self._vector is None:
            self._vector = embed(self.retrieval_text)
        return self._vector

    @property
    def retrieval_text(self) -> str:
        """What retrieval searches with: for a choice question, the stem and the options (not the instructions)."""
        a = self.analysis
        if a.type == CHOICE:
            return a.stem + "\n" + "\n".join(t for _, t in a.choices)
        if a.type == TRUE_FALSE:
            return a.stem
        return self.standalone


MAX_QUESTION_CHARS = 2000
_OTHER_SCRIPT = re.compile(r"[\u0400-\u04ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f\u3040-\u30ff\uac00-\ud7af\u0590-\u05ff]")


def check_question(question: str) -> str:
    """The question stripped, or QuestionError saying what is wrong with it (empty, too long, no words,
    or in a language other than Chinese or English)."""
    text = (question or "").strip()
    if not text:
        raise QuestionError("The question is empty. 问题为空，请输入问题。")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"The question is {len(text)} characters long; at most {MAX_QUESTION_CHARS} are accepted. Ask about one "
            f"point at a time. 问题过长（{len(text)}字），请不超过{MAX_QUESTION_CHARS}字。"
        )
    if not re.search(r"[^\W_]", text):
        raise QuestionError("The question has no words, only punctuation or symbols. 问题中没有文字。")
    foreign = len(_OTHER_SCRIPT.findall(text))
    known = len(re.findall(r"[A-Za-z\u3400-\u9fff\uf900-\ufaff]", text))
    if foreign and foreign >= known * 0.3:
        raise QuestionError(
            "Questions can be asked in Chinese or English only; this one looks like another language. "
            "请用中文或英文提问。"
        )
    return text
