"""Build and check eval/versions_suite.jsonl: questions about the real edition pairs of
../shared/datasets/cn_policy_regs (doc ids only; the questions and short answers are ours).

    python eval/versions_suite.py            # write eval/versions_suite.jsonl
    python eval/versions_suite.py --check    # also check every item against ../shared (when present):
                                             # doc ids exist, each answer occurs in the gold edition, the
                                             # cited article exists, and the edition retrieval would search
                                             # as of the item's date (assistant.versions) is the gold one

Item fields beyond the usual suite layout: `kind` (current: the rule in force today; as_of: the rule
on `as_of`; change: what an amendment changed), `as_of`, `work`, `article` (in the gold edition),
`other_editions` (editions that must not be cited for this question), and for change questions
`gold_changed_articles` (articles of the new edition that were added or changed, hand-checked).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "eval" / "versions_suite.jsonl"
DOCS = ROOT.parent / "shared" / "datasets" / "cn_policy_regs" / "docs"

# work: (old edition doc_id, new edition doc_id, a date when the old one was in force)
PAIRS = {
    "反垄断法": ("law-law-6f022edc27", "law-law-3da27b1ae6", "2015-01-01"),
    "统计法": ("law-law-90c6f1e7aa", "law-law-12a3e0cafb", "2015-01-01"),
    "国家科学技术奖励条例": ("law-xzfg-3109f8a4ac", "law-xzfg-132eac1ff3", "2022-01-01"),
    "互联网上网服务营业场所管理条例": ("law-xzfg-4244cf2674", "law-xzfg-6b0124714f", "2020-06-01"),
    "保障中小企业款项支付条例": ("law-xzfg-fe9b6438bc", "law-xzfg-dc3ec1be6f", "2022-01-01"),
    "烈士褒扬条例": ("law-xzfg-a4e9a086b9", "law-xzfg-23ad1edd8a", "2020-01-01"),
    "专利法实施细则": ("law-xzfg-084d9d9f30", "law-xzfg-1d3ffba373", "2015-01-01"),
    "商用密码管理条例": ("law-xzfg-bbb9f68761", "law-xzfg-5e33b951e3", "2010-01-01"),
    "国家自然科学基金条例": ("law-xzfg-22bfb7830c", "law-xzfg-de90a4d988", "2015-01-01"),
    "保守国家秘密法实施条例": ("law-xzfg-52b7976416", "law-xzfg-92e6d165b3", "2018-01-01"),
    "农产品质量安全法": ("law-law-c1a0b68047", "law-law-057f3630c8", "2020-01-01"),
}

# (work, kind, question, answers, edition "old"/"new"/"both", article in the gold edition);
# a change question's answer is one key phrase of what the amendment added
QUESTIONS: list[tuple[str, str, str, list[str], str, str]] = [
    # 反垄断法
    (
        "反垄断法",
        "current",
        "根据反垄断法，经营者违法实施集中且具有排除、限制竞争效果的，处多少罚款？",
        ["上一年度销售额百分之十以下"],
        "new",
        "第五十八条",
    ),
    (
        "反垄断法",
        "as_of",
        "按当时有效的反垄断法，经营者违法实施集中的，可以处多少罚款？",
        ["五十万元以下"],
        "old",
        "第四十八条",
    ),
    (
        "反垄断法",
        "current",
        "反垄断法规定，经营者尚未实施所达成的垄断协议的，可以处多少罚款？",
        ["三百万元以下"],
        "new",
        "第五十六条",
    ),
    (
        "反垄断法",
        "as_of",
        "依照当时的反垄断法，经营者尚未实施所达成的垄断协议的，可以处多少罚款？",
        ["五十万元以下"],
        "old",
        "第四十六条",
    ),
    ("反垄断法", "current", "拒绝、阻碍反垄断调查的，对个人处多少罚款？", ["五十万元以下"], "new", "第六十二条"),
    (
        "反垄断法",
        "as_of",
        "按当时的反垄断法，拒绝、阻碍反垄断调查情节严重的，对单位处多少罚款？",
        ["二十万元以上一百万元以下"],
        "old",
        "第五十二条",
    ),
    ("反垄断法", "current", "反垄断法是否禁止经营者利用数据和算法从事垄断行为？", ["数据和算法"], "new", "第九条"),
    ("反垄断法", "current", "反垄断法规定国家建立健全什么审查制度？", ["公平竞争审查制度"], "new", "第五条"),
    ("反垄断法", "change", "反垄断法2022年修改增加了哪些内容？", ["数据和算法"], "both", ""),
    # 统计法
    ("统计法", "current", "统计法规定，企业迟报统计资料的，可以并处多少罚款？", ["五万元以下"], "new", "第四十五条"),
    (
        "统计法",
        "as_of",
        "按当时有效的统计法，企业迟报统计资料的，可以并处多少罚款？",
        ["一万元以下"],
        "old",
        "第四十五条",
    ),
    (
        "统计法",
        "current",
        "企业拒绝提供统计资料情节严重的，依照统计法并处多少罚款？",
        ["十万元以上五十万元以下"],
        "new",
        "第四十四条",
    ),
    (
        "统计法",
        "as_of",
        "当时的统计法对企业拒绝提供统计资料情节严重的，并处多少罚款？",
        ["五万元以上二十万元以下"],
        "old",
        "第四十一条",
    ),
    ("统计法", "current", "根据统计法，地区生产总值核算工作由谁统一组织和实施？", ["国家统计局"], "new", "第二十条"),
    ("统计法", "change", "统计法2024年修改新增了哪些条文？", ["统计监督"], "both", ""),
    # 国家科学技术奖励条例
    (
        "国家科学技术奖励条例",
        "current",
        "国家最高科学技术奖的奖金数额如何确定？",
        ["报党中央、国务院批准"],
        "new",
        "第二十五条",
    ),
    (
        "国家科学技术奖励条例",
        "as_of",
        "按当时的国家科学技术奖励条例，国家最高科学技术奖的奖金数额由谁规定？",
        ["国务院规定"],
        "old",
        "第二十五条",
    ),
    (
        "国家科学技术奖励条例",
        "current",
        "国家科学技术奖励委员会的组成人员人选报谁批准？",
        ["党中央、国务院批准"],
        "new",
        "第七条",
    ),
    ("国家科学技术奖励条例", "change", "国家科学技术奖励条例2024年修订改了哪些条款？", ["党中央"], "both", ""),
    # 互联网上网服务营业场所管理条例
    (
        "互联网上网服务营业场所管理条例",
        "current",
        "互联网上网服务营业场所正式开展经营活动后，公安机关在多长时间内进行实地检查？",
        ["20个工作日内"],
        "new",
        "第三十二条",
    ),
    (
        "互联网上网服务营业场所管理条例",
        "current",
        "申请人完成网吧筹建后，就信息网络安全审核向公安机关做什么？",
        ["承诺符合信息网络安全审核条件"],
        "new",
        "第十一条",
    ),
    (
        "互联网上网服务营业场所管理条例",
        "as_of",
        "按当时的互联网上网服务营业场所管理条例，公安机关应当自收到信息网络安全审核申请之日起多少个工作日内作出决定？",
        ["20个工作日内"],
        "old",
        "第十一条",
    ),
    (
        "互联网上网服务营业场所管理条例",
        "change",
        "互联网上网服务营业场所管理条例2022年修订有哪些变化？",
        ["承诺"],
        "both",
        "",
    ),
    # 保障中小企业款项支付条例
    (
        "保障中小企业款项支付条例",
        "current",
        "大型企业从中小企业采购货物，应当自交付之日起多少日内支付款项？",
        ["60日内"],
        "new",
        "第九条",
    ),
    (
        "保障中小企业款项支付条例",
        "current",
        "保障中小企业款项支付条例自何时起施行？",
        ["2025年6月1日"],
        "new",
        "第三十七条",
    ),
    (
        "保障中小企业款项支付条例",
        "as_of",
        "当时的保障中小企业款项支付条例自何时起施行？",
        ["2020年9月1日"],
        "old",
        "第二十九条",
    ),
    (
        "保障中小企业款项支付条例",
        "as_of",
        "按当时的保障中小企业款项支付条例，机关、事业单位从中小企业采购，合同另有约定的付款期限最长不得超过多少日？",
        ["60日"],
        "old",
        "第八条",
    ),
    # 烈士褒扬条例
    (
        "烈士褒扬条例",
        "current",
        "哪些烈士遗属可以根据本人意愿在光荣院、优抚医院集中供养？",
        ["老年、残疾或者未满16周岁"],
        "new",
        "第三十一条",
    ),
    (
        "烈士褒扬条例",
        "as_of",
        "按当时的烈士褒扬条例，孤老烈士遗属需满多少岁才可以在光荣院、敬老院集中供养？",
        ["男年满60周岁、女年满55周岁"],
        "old",
        "第二十四条",
    ),
    ("烈士褒扬条例", "current", "烈士褒扬金由哪一级部门发给？", ["退役军人工作主管部门"], "new", "第十五条"),
    # 专利法实施细则
    (
        "专利法实施细则",
        "current",
        "请求给予专利权期限补偿的，专利权人应当在什么期限内提出？",
        ["自公告授予专利权之日起3个月内"],
        "new",
        "第七十七条",
    ),
    (
        "专利法实施细则",
        "current",
        "申请人超出优先权期限就相同主题提出申请，有正当理由的，可以在多长时间内请求恢复优先权？",
        ["2个月内"],
        "new",
        "第三十六条",
    ),
    (
        "专利法实施细则",
        "as_of",
        "按当时的专利法实施细则，单位未约定职务发明报酬的，每年应当从实施发明专利的营业利润中提取不低于多少作为报酬？",
        ["2%"],
        "old",
        "第七十八条",
    ),
    (
        "专利法实施细则",
        "current",
        "单位未与发明人约定职务发明报酬的，现行专利法实施细则规定依照什么法律给予合理报酬？",
        ["促进科技成果转化法"],
        "new",
        "第九十四条",
    ),
    ("专利法实施细则", "change", "专利法实施细则2023年修订与之前版本相比有何变化？", ["专利权期限补偿"], "both", ""),
    # 商用密码管理条例
    ("商用密码管理条例", "current", "现行商用密码管理条例自何时起施行？", ["2023年7月1日"], "new", "第六十七条"),
    ("商用密码管理条例", "as_of", "按当时的商用密码管理条例，商用密码技术属于什么？", ["国家秘密"], "old", "第三条"),
    (
        "商用密码管理条例",
        "current",
        "商用密码管理条例所称商用密码是指什么？",
        ["不属于国家秘密的信息"],
        "new",
        "第二条",
    ),
    # 国家自然科学基金条例
    (
        "国家自然科学基金条例",
        "current",
        "项目负责人违规情节较重的，几年内不得申请国家自然科学基金资助？",
        ["1至5年"],
        "new",
        "第三十七条",
    ),
    (
        "国家自然科学基金条例",
        "as_of",
        "按当时的国家自然科学基金条例，申请人伪造申请材料情节严重的，几年不得申请基金资助？",
        ["3至5年"],
        "old",
        "第三十四条",
    ),
    # 保守国家秘密法实施条例
    (
        "保守国家秘密法实施条例",
        "current",
        "从事涉密业务的企业事业单位应当在境内依法成立几年以上？",
        ["1年以上"],
        "new",
        "第四十七条",
    ),
    (
        "保守国家秘密法实施条例",
        "as_of",
        "按当时的保守国家秘密法实施条例，从事涉密业务的企业事业单位应当在境内依法成立几年以上？",
        ["3年以上"],
        "old",
        "第二十九条",
    ),
    # 农产品质量安全法
    (
        "农产品质量安全法",
        "current",
        "冒用农产品质量标志、违法农产品货值不足五千元的，并处多少罚款？",
        ["五千元以上五万元以下"],
        "new",
        "第七十四条",
    ),
    (
        "农产品质量安全法",
        "as_of",
        "按当时的农产品质量安全法，冒用农产品质量标志的，并处多少罚款？",
        ["二千元以上二万元以下"],
        "old",
        "第五十一条",
    ),
    ("农产品质量安全法", "current", "现行农产品质量安全法自何时起施行？", ["2023年1月1日"], "new", "第八十一条"),
]


def build() -> list[dict]:
    items = []
    for n, (work, kind, question, answers, edition, article) in enumerate(QUESTIONS, 1):
        old, new, then = PAIRS[work]
        gold = {"old": old, "new": new, "both": new}[edition]
        item = {
            "id": f"ver-{n:03d}",
            "question": question,
            "answer": answers[0] if len(answers) == 1 else answers,
            "answerable": True,
            "doc_id": gold,
            "alt_doc_ids": [old] if edition == "both" else [],
            "language": "zh",
            "question_type": "change" if kind == "change" else "factoid",
            "kind": kind,
            "work": work,
            "article": article or None,
            "other_editions": [] if edition == "both" else [new if edition == "old" else old],
        }
        if kind == "as_of":
            item["as_of"] = then
        items.append(item)
    return items


LABELS = ROOT / "tests" / "data" / "versions_alignment_real.json"


def _changed_articles(old: str, new: str) -> list[str] | None:
    """Added or changed articles of the new edition, from the hand-checked alignments (None if not labelled)."""
    for pair in json.loads(LABELS.read_text(encoding="utf-8"))["pairs"]:
        if (pair["old"], pair["new"]) == (old, new):
            changed = {n for o, n in pair["alignment"] if o is None and n} | {n for _, n in pair["changed"]}
            return [n for _, n in pair["alignment"] if n in changed]
    return None


def check(items: list[dict]) -> int:
    """Problems found (printed); 0 when the suite agrees with the documents and with assistant.versions."""
    sys.path.insert(0, str(ROOT))
    from assistant.types import Document
    from assistant.versions import as_of_date, build_library, version_meta
    from assistant.versions.diff import split_articles
    from assistant.versions.library import DocInput

    ids = sorted({d for old, new, _ in PAIRS.values() for d in (old, new)})
    texts = {d: (DOCS / f"{d}.txt").read_text(encoding="utf-8") for d in ids}
    docs = [Document(d, f"{d}.txt", texts[d].split("\n")[0].strip(), texts[d], "txt") for d in ids]
    lib = build_library([DocInput(d.doc_id, d.title, version_meta(d)) for d in docs])
    problems = 0
    right = 0
    for item in items:
        gold, text = item["doc_id"], texts[item["doc_id"]]
        answers = item["answer"] if isinstance(item["answer"], list) else [item["answer"]]
        if any(a not in text for a in answers):
            print(f"{item['id']}: answer {answers} not in {gold}")
            problems += 1
        if item["article"] and item["article"] not in {a.label for a in split_articles(text)}:
            print(f"{item['id']}: {item['article']} not in {gold}")
            problems += 1
        if item["kind"] == "change":  # both editions are named (filters.doc_ids), so both are searched
            continue
        searched = [
            e.doc_id for e in lib.editions_of(gold) if e.doc_id not in lib.excluded(as_of_date(item.get("as_of")))
        ]
        right += searched == [gold]
        if searched != [gold]:
            print(f"{item['id']}: retrieval as of {item.get('as_of') or 'today'} searches {searched}, gold {gold}")
    dated = sum(1 for i in items if i["kind"] != "change")
    print(
        f"{len(items)} items; the as-of edition filter searches exactly the gold edition for {right}/{dated} "
        f"current/as-of items ({right / dated:.3f}); {problems} problems"
    )
    return problems


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="check against ../shared/datasets/cn_policy_regs")
    args = ap.parse_args()
    items = build()
    for item in items:
        if item["kind"] == "change":
            old, new, _ = PAIRS[item["work"]]
            changed = _changed_articles(old, new)
            if changed:
                item["gold_changed_articles"] = changed
    OUT.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    print(f"wrote {len(items)} items to {OUT.relative_to(ROOT)}")
    if args.check:
        if not DOCS.is_dir():
            sys.exit(f"{DOCS} is not present; nothing to check against")
        sys.exit(1 if check(items) else 0)


if __name__ == "__main__":
    main()
