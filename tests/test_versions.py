"""assistant.versions: dates, validity, editions, sidecar, article diff, retrieval as of a date."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from assistant.types import Citation, Document, Filters, Passage
from assistant.versions import (
    VersionError,
    build_library,
    compare_documents,
    diff_documents,
    label,
    normalize_title,
    parse_date,
    parse_dates,
    parse_sidecar,
    version_meta,
)
from assistant.versions.diff import split_articles
from assistant.versions.library import DocInput, record_sidecars

DATA = Path(__file__).parent / "data" / "versions"
SHARED_DOCS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "cn_policy_regs" / "docs"
D = dt.date


def doc(doc_id: str, text: str, title: str | None = None, **meta: str) -> Document:
    title = title or text.strip().split("\n")[0]
    return Document(doc_id=doc_id, path=f"{doc_id}.txt", title=title, text=text, doc_type="txt", meta=dict(meta))


def inputs(*docs: Document) -> list[DocInput]:
    return [DocInput(d.doc_id, d.title, {**d.meta, **version_meta(d)}) for d in docs]


def law(
    title: str, head: str, last: str = "本法自2020年1月1日起施行。", body: str = "第一条 为了规范管理，制定本法。"
) -> str:
    return f"{title}\n\n{head}\n\n第一章 总则\n\n{body}\n\n第二条 {last}\n"


# ----- dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019年3月1日", D(2019, 3, 1)),
        ("二〇一九年三月一日", D(2019, 3, 1)),
        ("二〇二二年十二月三十一日", D(2022, 12, 31)),
        ("2019 年 3 月 1 日", D(2019, 3, 1)),
        ("2019年2月30日", None),
        ("二〇一九年", None),
        ("没有日期", None),
    ],
)
def test_parse_date(text: str, expected: dt.date | None) -> None:
    assert parse_date(text) == expected


def test_history_effective_and_edition_of_an_amended_law() -> None:
    text = (DATA / "data_law_2021.txt").read_text(encoding="utf-8")
    dates = parse_dates(text)
    assert [(e.date, e.action) for e in dates.history] == [(D(2015, 6, 1), "通过"), (D(2021, 6, 10), "修订")]
    assert dates.edition == "2021年修订"
    assert dates.issued == D(2015, 6, 1)
    assert dates.effective == D(2021, 9, 1)
    old = parse_dates((DATA / "data_law_2015.txt").read_text(encoding="utf-8"))
    assert old.edition == "2015年通过" and old.effective == D(2015, 10, 1)
    assert old.repeals == ("示例信息记录暂行办法",)


def test_promulgation_order_with_chinese_dates() -> None:
    text = (
        "示例管理条例\n中华人民共和国国务院令\n第九百号\n《示例管理条例》已经二〇一八年九月六日国务院第23次常务会议修订通过，"
        "现将修订后的《示例管理条例》公布，自二〇一九年三月一日起施行。\n总理 某某\n二〇一八年十一月六日\n"
        "示例管理条例\n（1991年3月4日中华人民共和国国务院令第76号发布 2018年9月6日国务院第23次常务会议修订通过）\n"
        "第一章 总 则\n第一条 为了规范示例活动，制定本条例。\n"
    )
    dates = parse_dates(text)
    assert dates.edition == "2018年修订"
    assert dates.edition_date == D(2018, 11, 6)
    assert dates.effective == D(2019, 3, 1)
    assert dates.issued == D(1991, 3, 4)


def test_consolidated_text_keeps_first_effective_date_out_of_the_edition() -> None:
    # An amended text still says 本法自2008年8月1日起施行: that is not the 2022 edition's date.
    text = law(
        "中华人民共和国示例法",
        "2007年8月30日 通过\n\n2022年6月24日 《关于修改〈中华人民共和国示例法〉的决定》修正）",
        "本法自2008年8月1日起施行。",
    )
    dates = parse_dates(text)
    assert dates.edition == "2022年修正"
    assert dates.stated_effective == D(2008, 8, 1)
    assert dates.effective is None


def test_effective_on_publication_and_unparseable_dates() -> None:
    published = parse_dates("示例办法\n\n2020年5月1日 某某部令第1号公布\n\n第一条 本办法自公布之日起施行。")
    assert published.effective == D(2020, 5, 1)
    nothing = parse_dates("示例办法\n\n某年某月 通过\n\n第一条 本办法自发布之日起施行。")
    assert nothing.history == () and nothing.effective is None and nothing.edition is None


def test_repeals_only_titles_that_are_repealed() -> None:
    text = law(
        "示例条例",
        "2020年1月1日 公布",
        "本条例自2020年3月1日起施行。《甲办法》、《乙规定》同时废止。",
        body="第一条 依照《中华人民共和国示例法》，制定本条例；废止的事项另行规定。",
    )
    assert parse_dates(text).repeals == ("甲办法", "乙规定")


# ----- editions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("中华人民共和国反垄断法", "反垄断法"),
        ("中华人民共和国反垄断法（2022年修正）", "反垄断法"),
        ("专利代理条例(2018修订)", "专利代理条例"),
        ("《专利法实施细则》 （2010年版）", "专利法实施细则"),
        ("统计法(2009-06-27)", "统计法"),
        ("企业信息公示暂行条例", "企业信息公示暂行条例"),
    ],
)
def test_normalize_title(title: str, expected: str) -> None:
    assert normalize_title(title) == expected


def _two_editions() -> tuple[Document, Document]:
    old = doc("law-2015", (DATA / "data_law_2015.txt").read_text(encoding="utf-8"))
    new = doc("law-2021", (DATA / "data_law_2021.txt").read_text(encoding="utf-8"))
    return old, new


def test_editions_grouped_into_one_work() -> None:
    old, new = _two_editions()
    lib = build_library(inputs(old, new))
    assert lib.work_of("law-2015") == lib.work_of("law-2021")
    assert [e.doc_id for e in lib.editions_of("law-2021")] == ["law-2015", "law-2021"]
    assert lib.edition("law-2021").edition == "2021年修订"


def test_same_title_different_cities_are_not_merged() -> None:
    a = doc("gz", law("物业管理条例实施细则", "2019年5月1日 广州市第十五届人民代表大会常务委员会第二十次会议通过"))
    b = doc("sz", law("物业管理条例实施细则", "2020年7月1日 深圳市第六届人民代表大会常务委员会第四十次会议通过"))
    lib = build_library(inputs(a, b))
    assert lib.work_of("gz") != lib.work_of("sz")
    assert lib.validity("gz", D(2024, 1, 1)) == lib.validity("sz", D(2024, 1, 1)) == "in_force"


def test_national_law_and_provincial_measures_are_not_merged() -> None:
    national = doc("nat", law("统计法实施办法", "2017年5月28日 中华人民共和国国务院令第681号公布"))
    provincial = doc("gd", law("统计法实施办法", "2018年3月1日 广东省第十三届人民代表大会常务委员会第二次会议通过"))
    provincial_issuer = doc("js", law("统计法实施办法", "2019年3月1日 公布"), issuer="江苏省人民政府")
    lib = build_library(inputs(national, provincial, provincial_issuer))
    assert len({lib.work_of(d) for d in ("nat", "gd", "js")}) == 3


def test_city_regulation_approved_by_province_stays_the_city_s() -> None:
    head = "2020年6月1日 深圳市第六届人民代表大会常务委员会第四十二次会议通过\n\n2020年7月30日 广东省第十三届人民代表大会常务委员会第二十三次会议批准"
    city = doc("sz", law("深圳经济特区示例条例", head))
    assert json.loads(version_meta(city)["versions"])["region"] == "深圳市"


def test_unknown_issuer_joins_the_only_known_one() -> None:
    plain = doc("plain", "示例支付条例\n\n第一条 为了规范支付，制定本条例。\n\n第二条 本条例自2020年9月1日起施行。\n")
    revised = doc(
        "rev",
        law(
            "示例支付条例",
            "2020年7月5日 中华人民共和国国务院令第728号公布\n\n2025年3月17日 中华人民共和国国务院令第802号修订）",
            "本条例自2025年6月1日起施行。",
        ),
    )
    lib = build_library(inputs(plain, revised))
    assert lib.work_of("plain") == lib.work_of("rev")
    assert lib.validity("plain", D(2024, 1, 1)) == "in_force"
    assert lib.validity("rev", D(2024, 1, 1)) == "not_yet_effective"
    assert lib.excluded(D(2024, 1, 1)) == {"rev"}
    assert lib.validity("plain", D(2025, 7, 1)) == "superseded"
    assert lib.excluded(D(2025, 7, 1)) == {"plain"}


# ----- validity --------------------------------------------------------------------


def test_validity_as_of_dates() -> None:
    old, new = _two_editions()
    lib = build_library(inputs(old, new))
    assert lib.validity("law-2015", D(2014, 1, 1)) == "not_yet_effective"
    assert lib.validity("law-2015", D(2018, 1, 1)) == "in_force"
    assert lib.validity("law-2015", D(2022, 1, 1)) == "superseded"
    assert lib.validity("law-2015") == "superseded"  # today
    assert lib.validity("law-2021", D(2021, 7, 1)) == "not_yet_effective"
    assert lib.validity("law-2021", D(2021, 9, 1)) == "in_force"
    assert lib.excluded(D(2018, 1, 1)) == {"law-2021"}
    assert lib.excluded() == {"law-2015"}
    info = lib.info("law-2021")
    assert info["edition"] == "2021年修订" and info["effective_date"] == "2021-09-01"
    assert info["validity"] == "in_force" and info["validity_label"] == "现行有效"


def test_repealed_by_a_later_document_of_another_work() -> None:
    old, new = _two_editions()
    repealed = doc("rec", law("示例信息记录暂行办法", "2010年1月1日 某某部令第3号发布", "本办法自2010年3月1日起施行。"))
    lib = build_library(inputs(old, new, repealed))
    assert lib.validity("rec", D(2012, 1, 1)) == "in_force"
    assert lib.validity("rec", D(2016, 1, 1)) == "repealed"
    assert lib.info("rec")["repealed_by"] == "law-2015"


def test_unparseable_dates_stay_unknown() -> None:
    undated = doc("x", "示例通知\n\n各有关单位：\n\n请认真贯彻执行。\n")
    lib = build_library(inputs(undated))
    assert lib.validity("x") == "unknown"
    assert lib.info("x")["validity_label"] == "状态不明"
    assert lib.excluded() == set()


def test_labels() -> None:
    assert [label(v) for v in ("in_force", "superseded", "repealed", "not_yet_effective", "unknown")] == [
        "现行有效",
        "已被修订",
        "已废止",
        "尚未生效",
        "状态不明",
    ]
    assert label("superseded", "en") == "superseded"


# ----- sidecar ---------------------------------------------------------------------


def test_sidecar_rows_override_detection_and_bad_rows_name_their_line() -> None:
    text = (
        "doc_id,validity,effective,repealed,supersedes\n"
        "law-2015,,,2019-01-01,\n"
        "law-2021,in_force,2021-09-01,,law-2015\n"
        "broken,sometimes,,,\n"
        "late,,2021-13-01,,\n"
        "short,in_force\n"
        "x,已废止,,,\n"
    )
    rows, problems = parse_sidecar(text, "corpus.meta.csv")
    assert sorted(rows) == ["law-2015", "law-2021", "x"]
    assert rows["x"]["validity"] == "repealed"
    assert [p.line for p in problems] == [4, 5, 6]
    assert "line 4" in str(problems[0]) and "sometimes" in str(problems[0])
    assert "2021-13-01" in problems[1].reason
    old, new = _two_editions()
    lib = build_library(inputs(old, new), rows)
    assert lib.validity("law-2015", D(2018, 1, 1)) == "in_force"
    assert lib.validity("law-2015", D(2019, 6, 1)) == "repealed"


def test_sidecar_bad_header() -> None:
    rows, problems = parse_sidecar("id,status\nlaw,in_force\n", "c.csv")
    assert rows == {} and problems[0].line == 1 and "doc_id" in problems[0].reason


def test_sidecar_recorded_at_ingest(tmp_path: Path) -> None:
    (tmp_path / "corpus.meta.csv").write_text("doc_id,validity\na,repealed\nb,never\n", encoding="utf-8")

    class Info:
        def __init__(self) -> None:
            self.info: dict[str, str] = {}

        def get_info(self, key: str, default: str | None = None) -> str | None:
            return self.info.get(key, default)

        def set_info(self, **values: str) -> None:
            self.info.update(values)

    catalog = Info()
    failed = record_sidecars(catalog, [tmp_path], {"a", "b"})
    assert len(failed) == 1 and failed[0][0].endswith("corpus.meta.csv:3") and "never" in failed[0][1]
    assert json.loads(catalog.info["versions_sidecar"]) == {"a": {"doc_id": "a", "validity": "repealed"}}


# ----- diff ------------------------------------------------------------------------


def _prf(got: list[tuple[str | None, str | None]], gold: list[tuple[str | None, str | None]]) -> tuple[float, float]:
    got_pairs = {p for p in got if p[0] and p[1]}
    gold_pairs = {p for p in gold if p[0] and p[1]}
    hit = len(got_pairs & gold_pairs)
    return hit / max(len(got_pairs), 1), hit / max(len(gold_pairs), 1)


def test_split_articles() -> None:
    arts = split_articles((DATA / "data_law_2015.txt").read_text(encoding="utf-8"))
    assert [a.number for a in arts] == list(range(1, 13))
    assert arts[3].text == "国家建立数据分类分级保护制度，对数据实行分类分级保护。"  # ends before 第二章


def test_diff_of_synthetic_editions_matches_hand_labels() -> None:
    labels = json.loads((DATA / "alignment.json").read_text(encoding="utf-8"))["pairs"][0]
    old = (DATA / labels["old"]).read_text(encoding="utf-8")
    new = (DATA / labels["new"]).read_text(encoding="utf-8")
    diff = diff_documents(old, new)
    gold = [tuple(p) for p in labels["alignment"]]
    assert diff.alignment() == gold
    assert [(e.old, e.new) for e in diff.changed] == [tuple(p) for p in labels["changed"]]
    data = diff.to_dict()
    assert data["added"] == [
        {"new": "第三条", "text": "国家保护个人、组织与数据有关的权益，鼓励数据依法合理有效利用。"},
        {"new": "第十二条", "text": "违反本法规定，构成犯罪的，依法追究刑事责任。"},
    ]
    assert data["removed"][0]["old"] == "第九条"
    assert {"old": "第三条", "new": "第四条"} in data["renumbered"]
    fine = next(c for c in data["changed"] if c["old"] == "第十条")
    assert "[-五-]" in fine["old_text"] and "{+一百万元以下罚款；拒不改正的，处一百万元以上二百+}" in fine["new_text"]


def test_diff_renumbering_when_articles_move() -> None:
    old = "示例法\n第一条 甲乙丙丁戊己庚辛壬癸甲乙丙丁。\n第二条 子丑寅卯辰巳午未申酉戌亥子丑。\n第三条 春夏秋冬东南西北上下左右前后。\n"
    new = "示例法\n第一条 春夏秋冬东南西北上下左右前后。\n第二条 甲乙丙丁戊己庚辛壬癸甲乙丙丁。\n第三条 子丑寅卯辰巳午未申酉戌亥子丑。\n"
    diff = diff_documents(old, new)
    assert sorted((e.old, e.new) for e in diff.renumbered) == [
        ("第一条", "第二条"),
        ("第三条", "第一条"),
        ("第二条", "第三条"),
    ]
    assert not diff.added and not diff.removed and not diff.changed


def test_compare_refuses_different_works() -> None:
    old, new = _two_editions()
    other = doc("other", law("示例支付条例", "2020年7月5日 中华人民共和国国务院令第728号公布"))
    with pytest.raises(VersionError, match="different works"):
        compare_documents(old, other)
    result = compare_documents(old, new).to_dict()
    assert result["old_doc"]["edition"] == "2015年通过" and result["new_doc"]["edition"] == "2021年修订"
    assert {"added", "removed", "changed", "renumbered"} <= set(result)


REAL_LABELS = Path(__file__).parent / "data" / "versions_alignment_real.json"


@pytest.mark.skipif(not SHARED_DOCS.is_dir(), reason="../shared/datasets/cn_policy_regs is not present")
@pytest.mark.parametrize("pair", json.loads(REAL_LABELS.read_text(encoding="utf-8"))["pairs"], ids=lambda p: p["name"])
def test_alignment_on_real_pairs(pair: dict) -> None:
    old = (SHARED_DOCS / f"{pair['old']}.txt").read_text(encoding="utf-8")
    new = (SHARED_DOCS / f"{pair['new']}.txt").read_text(encoding="utf-8")
    precision, recall = _prf(diff_documents(old, new).alignment(), [tuple(p) for p in pair["alignment"]])
    assert precision >= 0.95 and recall >= 0.95


# ----- retrieval and citations -------------------------------------------------------


def test_filters_as_of_and_citation_fields() -> None:
    assert not Filters(as_of="2020-01-01").is_empty()
    p = Passage(
        chunk_id="a#1",
        doc_id="a",
        text="x",
        score=1.0,
        meta={"edition": "2022年修正", "effective_date": None, "validity": "in_force"},
    )
    c = Citation(n=1, passage=p, quote="x", span=(0, 1), supported=True).to_dict()
    assert (c["edition"], c["effective_date"], c["validity"]) == ("2022年修正", None, "in_force")


class _FakeCatalog:
    """What the versions filter reads of a catalog, over in-memory documents."""

    def __init__(self, *docs: Document) -> None:
        self.docs = {d.doc_id: d for d in docs}

    def documents(self) -> list:
        from assistant.catalog import DocumentRecord

        return [DocumentRecord(d.doc_id, d.path, d.title, "txt", "h", "complete", 1, {}) for d in self.docs.values()]

    def document_text(self, doc_id: str) -> Document:
        return self.docs[doc_id]

    def generation(self) -> int:
        return 1

    def get_info(self, key: str, default: str | None = None) -> str | None:
        return default

    def chunk_ids_by_document(self) -> dict[str, list[str]]:
        return {d: [f"{d}#0"] for d in self.docs}


def test_excluded_editions_respect_named_documents() -> None:
    from assistant.versions.filtering import excluded_editions

    old, new = _two_editions()

    catalog = _FakeCatalog(old, new)
    assert excluded_editions(catalog, None) == {"law-2015"}
    assert excluded_editions(catalog, Filters(as_of="2018-01-01")) == {"law-2021"}
    assert excluded_editions(catalog, Filters(doc_ids=["law-2015"])) == set()
    with pytest.raises(VersionError, match="YYYY-MM-DD"):
        excluded_editions(catalog, Filters(as_of="2018/01/01"))


# ----- evaluation metrics --------------------------------------------------------------


def test_edition_accuracy_and_diff_recall_metrics() -> None:
    from assistant.evaluation.article_metrics import diff_recall, edition_correct
    from assistant.evaluation.suite import SuiteItem

    def answer(*doc_ids: str, text: str = "") -> object:
        from assistant.types import Answer

        passages = [
            Passage(chunk_id=f"{d}#0", doc_id=d, text="x", score=1.0, section="第二章 > 第十条") for d in doc_ids
        ]
        cites = [Citation(n=i, passage=p, quote="x", span=(0, 1), supported=True) for i, p in enumerate(passages, 1)]
        return Answer(question="q", text=text, citations=cites, passages=passages)

    item = SuiteItem(
        id="1", question="q", answers=["a"], answerable=True, doc_id="new", extra={"other_editions": ["old"]}
    )
    assert edition_correct(item, answer("new")) == 1.0  # type: ignore[arg-type]
    assert edition_correct(item, answer("new", "old")) == 0.0  # type: ignore[arg-type]
    assert edition_correct(item, answer("unrelated")) == 0.0  # type: ignore[arg-type]
    change = SuiteItem(
        id="2",
        question="q",
        answers=[],
        answerable=True,
        doc_id="new",
        alt_doc_ids=["old"],
        extra={"other_editions": []},
    )
    assert edition_correct(change, answer("new", "old")) == 1.0  # type: ignore[arg-type]
    assert edition_correct(change, answer("new")) == 0.0  # type: ignore[arg-type]
    plain = SuiteItem(id="3", question="q", answers=["a"], answerable=True, doc_id="new")
    assert edition_correct(plain, answer("new")) is None  # type: ignore[arg-type]
    assert diff_recall(["新增第五条、第9条，修改了第十条"], ["第五条", "第九条", "第十条", "第十一条"]) == 0.75
    assert diff_recall(["x"], []) is None


def test_signing_date_of_a_notice_is_its_issue_date() -> None:
    text = "国务院关于示例工作的意见\n国发〔2019〕5号\n\n各省、自治区、直辖市人民政府：\n\n现提出如下意见。\n\n国务院\n2019年1月27日\n（此件公开发布）\n"
    dates = parse_dates(text)
    assert dates.edition in ("2019年公布", "2019年发布") and dates.edition_date == D(2019, 1, 27)
    assert build_library(inputs(doc("n", text))).validity("n", D(2020, 1, 1)) == "in_force"


def test_html_views_escape_and_mark() -> None:
    from assistant.versions.html import diff_html, works_html

    old, new = _two_editions()
    lib = build_library(inputs(old, new))
    table = works_html(lib)
    assert "现行有效" in table and "已被修订" in table and "2021年修订" in table
    page = diff_html(compare_documents(old, new))
    assert '<span class="v-ins">十</span>' in page and "新增 2" in page
    hostile = doc("h1", law("示例<script>法", "2020年1月1日 公布", body="第一条 <b>x</b>"))
    assert "<script>" not in works_html(build_library(inputs(hostile)))


def test_change_questions_pick_two_editions() -> None:
    from assistant.versions.questions import change_question

    old, new = _two_editions()
    lib = build_library(inputs(old, new))
    found = change_question("示例数据管理法2021年修改增加了哪些内容？", lib)
    assert found is not None and (found.old, found.new) == ("law-2015", "law-2021")
    found = change_question("《中华人民共和国示例数据管理法》2021年版与2015年版相比有何变化？", lib)
    assert found is not None and (found.old, found.new) == ("law-2015", "law-2021")
    assert change_question("示例数据管理法规定的罚款是多少？", lib) is None
    assert change_question("另一部法律修改了什么？", lib) is None


# ----- the diff command ---------------------------------------------------------------


def _diff_app() -> object:
    import typer

    from assistant.versions.command import diff_command

    app = typer.Typer()
    app.command()(diff_command)  # the one command, as `assistant diff` registers it
    return app


def test_diff_command_json_and_table(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    old, new = str(DATA / "data_law_2015.txt"), str(DATA / "data_law_2021.txt")
    result = CliRunner().invoke(_diff_app(), [old, new, "--json"])  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["new_doc"]["edition"] == "2021年修订"
    assert [a["new"] for a in data["added"]] == ["第三条", "第十二条"]
    assert [r["old"] for r in data["removed"]] == ["第九条"]
    assert {"old", "new", "old_text", "new_text"} <= set(data["changed"][0])
    table = CliRunner().invoke(_diff_app(), [old, new])  # type: ignore[arg-type]
    assert table.exit_code == 0 and "2 added, 1 removed, 3 changed" in table.output


def test_diff_command_refuses_different_works(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    other = tmp_path / "other.txt"
    other.write_text(law("示例支付条例", "2020年7月5日 中华人民共和国国务院令第728号公布"), encoding="utf-8")
    result = CliRunner().invoke(_diff_app(), [str(DATA / "data_law_2015.txt"), str(other)])  # type: ignore[arg-type]
    assert result.exit_code == 1 and "different works" in result.output
    missing = CliRunner().invoke(_diff_app(), ["no-such-doc", str(other), "--index", str(tmp_path / "none")])  # type: ignore[arg-type]
    assert missing.exit_code != 0


def test_change_questions_search_both_editions() -> None:
    from assistant.versions.filtering import excluded_editions

    old, new = _two_editions()
    catalog = _FakeCatalog(old, new)
    assert excluded_editions(catalog, None, "示例数据管理法规定的罚款是多少？") == {"law-2015"}
    assert excluded_editions(catalog, None, "示例数据管理法2021年修改了哪些内容？") == set()


# ----- end to end: ingest (real embedder, Chroma on disk), status, retrieval as of a date ------------------


def test_ingest_stores_versions_applies_the_sidecar_and_retrieves_the_edition_in_force(tmp_path: Path) -> None:
    from assistant.index import open_index
    from assistant.ingest import ingest
    from assistant.retrieval import Retriever
    from assistant.versions import document_versions

    from .conftest import make_settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("data_law_2015.txt", "data_law_2021.txt"):
        (corpus / name).write_text((DATA / name).read_text(encoding="utf-8"), encoding="utf-8")
    (corpus / "records.txt").write_text(
        law("示例信息记录暂行办法", "2010年1月1日 某某部令第3号发布", "本办法自2010年3月1日起施行。"), encoding="utf-8"
    )
    (corpus / "corpus.meta.csv").write_text(
        "doc_id,validity,effective\nrecords,,2010-03-02\ndata_law_2021,someday,\n", encoding="utf-8"
    )
    settings = make_settings(tmp_path / "index", llm={"backend": "extractive"})
    report = ingest([corpus], settings)
    # The sidecar is not a document; its bad row is reported with its line, the good row applies.
    assert report.added == ["data_law_2015", "data_law_2021", "records"]
    assert len(report.failed) == 1 and report.failed[0][0].endswith("corpus.meta.csv:3")
    index = open_index(settings)
    try:
        versions = document_versions(index.catalog)
        assert versions["data_law_2015"]["work_id"] == versions["data_law_2021"]["work_id"]
        assert versions["data_law_2015"]["validity"] == "superseded"
        assert versions["data_law_2021"]["edition"] == "2021年修订"
        assert versions["data_law_2021"]["effective_date"] == "2021-09-01"
        assert versions["records"]["validity"] == "repealed"  # by 示例数据管理法 (2015): 《…》同时废止
        assert versions["records"]["effective_date"] == "2010-03-02"  # the sidecar's date
        retriever = Retriever(index, settings.retrieval)
        question = "示例数据管理法规定不履行数据安全保护义务的罚款是多少？"
        today = retriever.retrieve(question).passages
        assert today and {p.doc_id for p in today} <= {"data_law_2021", "records"}
        assert today[0].meta["validity"] == "in_force" and today[0].meta["edition"] == "2021年修订"
        then = retriever.retrieve(question, Filters(as_of="2018-01-01")).passages
        assert then[0].doc_id == "data_law_2015" and then[0].meta["validity"] == "in_force"
        both = retriever.retrieve("示例数据管理法2021年修订改了什么？", top_k=10).passages
        assert {"data_law_2015", "data_law_2021"} <= {p.doc_id for p in both}
    finally:
        index.close()


def test_sidecar_supersedes_across_works_and_declared_validity_is_today_s() -> None:
    old = doc("old-rules", law("示例旧办法", "2010年1月1日 某某部令第1号发布", "本办法自2010年3月1日起施行。"))
    new = doc("new-rules", law("示例新规定", "2020年1月1日 某某部令第9号发布", "本规定自2020年3月1日起施行。"))
    rows, problems = parse_sidecar("doc_id,supersedes,validity\nnew-rules,old-rules,\nold-rules,,repealed\n")
    assert not problems
    lib = build_library(inputs(old, new), rows)
    assert lib.work_of("old-rules") != lib.work_of("new-rules")
    assert lib.validity("old-rules") == "repealed"  # declared, for today
    assert lib.validity("old-rules", dt.date.today()) == "repealed"
    assert lib.validity("old-rules", D(2015, 1, 1)) == "in_force"
    assert lib.validity("old-rules", D(2021, 1, 1)) == "superseded"  # from the new document's start


def test_change_summary_and_earlier_wording() -> None:
    from assistant.versions.answers import article_of, change_summary, describe, earlier_wording

    old, new = _two_editions()
    lines = change_summary(compare_documents(old, new))
    assert lines[0].endswith("新增2条，删除1条，修改3条，6条仅调整条号。")
    assert any(line.startswith("新增第三条：国家保护个人、组织与数据有关的权益") for line in lines)
    assert any(line.startswith("修改第十三条（原第十二条）") for line in lines)
    assert article_of("第三章 法律责任 > 第十条") == "第十条" and article_of("附件") is None
    catalog = _FakeCatalog(old, new)
    earlier = earlier_wording(catalog, "law-2021", "第三章 法律责任 > 第十条")
    assert earlier is not None and earlier.old_doc_id == "law-2015" and earlier.old_article == "第十条"
    assert "五万元以上五十万元以下" in earlier.old_text
    assert "2015年通过第十条的规定不同" in describe(earlier, "示例数据管理法", "2015年通过")["line"]
    added = earlier_wording(catalog, "law-2021", "第一章 总则 > 第三条")
    assert added is not None and added.kind == "added"
    assert earlier_wording(catalog, "law-2021", "第一章 总则 > 第二条") is None  # same wording before
    assert earlier_wording(catalog, "law-2015", "第三章 法律责任 > 第十条") is None  # no earlier edition
