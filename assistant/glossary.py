"""Key policy terms across languages: what an English question or claim means in a Chinese document.

An English claim citing a Chinese passage (or the reverse) must find the counterpart of each of these terms it
uses in the passage: embedding similarity alone accepts "confiscation of mining licences and fines" for an article
about obtaining a mining licence (`citations.check_support`). An English question over Chinese documents also
searches the keyword index for the counterparts of its terms (`chinese_query`): "What penalties does the rare earth
regulation set for illegal mining?" finds the articles that say 稀土, 开采 and 处罚 / 罚款, not only the one that
the embedding puts first (obtaining a mining licence).
"""

from __future__ import annotations

import re

GLOSSARY: list[tuple[str, str]] = [  # (English pattern, Chinese alternatives)
    (r"\bfine[sd]?\b|\bfining\b", "罚款|罚金"), (r"confiscat", "没收"), (r"revok|revocation", "吊销|撤销"),
    (r"\bwarning", "警告"), (r"suspen[ds]", "暂停|停止|停产|停业"), (r"illegal (?:gains|income)", "违法所得"),
    (r"penalt|punish|sanction", "处罚|罚款|处分"), (r"\billegal|unlawful|violat", "违法|违反|非法|未取得|未经"),
    (r"liabilit", "法律责任|责任"),
    (r"criminal|prosecut", "刑事|犯罪"), (r"detention|detain", "拘留"), (r"imprison", "徒刑|监禁"),
    (r"subsid", "补贴|补助|资助|贴息"), (r"\b(?:award|reward|bonus)", "奖励|奖"), (r"\bloans?\b", "贷款|借款"),
    (r"\btax", "税"), (r"insurance", "保险"), (r"premium", "保费|保险费"), (r"\bexport", "出口|出海|境外"),
    (r"\bimport", "进口"), (r"\bmining\b|\bmines?\b", "开采|采矿|矿"), (r"licen[cs]|\bpermits?\b", "许可|执照|证"),
    (r"patent", "专利"), (r"trademark", "商标"), (r"copyright", "著作权|版权"), (r"personal information", "个人信息"),
    (r"small and medium|\bsmes?\b", "中小企业|中小"), (r"\bpay(?:ment)?s?\b|\bpaid\b", "支付|付款|款项|付"),
    (r"talent", "人才"), (r"training|\btrain", "培训|培养|训练"), (r"open.?source|openharmony", "开源"),
    (r"computing|compute", "算力|计算"), (r"voucher", "券"), (r"\bdata\b", "数据"), (r"software", "软件"),
    (r"artificial intelligence|\bai\b", "人工智能|智能"), (r"\bmodels?\b", "模型"), (r"rare earth", "稀土"),
]  # fmt: skip

# GLOSSARY compiled once: (English pattern, Chinese pattern, the first Chinese alternative).
TERMS = [(re.compile(en), re.compile(zh), zh.split("|")[0]) for en, zh in GLOSSARY]


def chinese_query(english: str, least: int = 2) -> str:
    """The Chinese counterparts of the glossary terms in an English text, as a keyword query ("稀土 开采 采矿 矿 处罚
    罚款 处分"); empty when fewer than `least` terms are found (one common term says too little about the subject)."""
    lowered = english.lower()
    found = [zh.pattern.replace("|", " ") for en, zh, _ in TERMS if en.search(lowered)]
    return " ".join(found) if len(found) >= least else ""


def term_share(english: str, chinese: str) -> float | None:
    """The share of the glossary terms of an English text whose Chinese counterpart `chinese` contains; None when
    the English text has none. Ranks Chinese passages and sentences for an English question, beside similarity."""
    lowered = english.lower()
    wanted = [zh for en, zh, _ in TERMS if en.search(lowered)]
    if not wanted:
        return None
    return sum(1 for zh in wanted if zh.search(chinese)) / len(wanted)


def weigh_across(english: str, chinese: str, similarity: float) -> float:
    """Embedding similarity of a Chinese text to an English question, scaled by how many of the question's key terms
    it states (half of it for none): "penalties for illegal mining" prefers the article that says 处罚 and 开采."""
    share = term_share(english, chinese)
    return similarity if share is None else similarity * (0.5 + 0.5 * share)


# What an English name of a policy ends with, and how its Chinese title ends.
_KINDS = {"regulation": "条例", "law": "法", "measure": "办法", "rule": "规定|规则|细则", "provision": "规定",
          "plan": "计划|方案|规划"}  # fmt: skip
_KIND_WORD = re.compile(r"\b(regulations?|law|measures|rules|provisions|plan)\b")
_NAME_STOP = {"the", "a", "an", "in", "of", "under", "by", "for", "to", "on", "from", "with", "does", "do", "what", "which",
              "how", "is", "are", "this", "that", "and", "or", "its", "their", "about", "according"}  # fmt: skip


def names_title(english: str, title: str) -> bool:
    """Whether an English question names the Chinese document `title` in words: "the rare earth regulation" names
    《稀土管理条例》 (every glossary term of the words just before "regulation" in the title, and the title ends as
    that kind of policy)."""
    lowered = english.lower()
    for m in _KIND_WORD.finditer(lowered):
        before = re.findall(r"[a-z][a-z-]*", lowered[: m.start()])
        name: list[str] = []
        for word in reversed(before[-5:]):
            if word in _NAME_STOP:
                break
            name.insert(0, word)
        kind = m.group(1).removesuffix("s")
        wanted = [zh for en, zh, _ in TERMS if en.search(" ".join(name))]
        if wanted and all(zh.search(title) for zh in wanted) and re.search(f"(?:{_KINDS[kind]})$", title):
            return True
    return False
