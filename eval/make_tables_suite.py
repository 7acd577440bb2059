"""Write the table documents under eval/tables/ and their question suite eval/tables_suite.jsonl.

    .venv/bin/python eval/make_tables_suite.py [--out eval]

Four cities publish the same kinds of subsidy in a table each, with different values, so a
question is only answered right when both the document (the city) and the row are found:
广州 as DOCX (a two-row header with a merged "补贴标准" cell, a category merged down its rows),
深圳 as HTML (colspan/rowspan), 杭州 as PDF (a ruled table drawn with fpdf2 and Noto CJK) and
成都 as DOCX with a one-row header. Every cell value is made up here; the suite checks that
the row's value is found (hit@5 on the city's document) and appears in the answer.

    assistant eval eval/tables_suite.jsonl --corpus eval/tables --llm extractive
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

ITEMS = [
    ("软件企业出海保险", "出海"),
    ("首版次软件保险", "软件"),
    ("数据中心绿色化改造", "算力"),
    ("算力券", "算力"),
    ("人工智能大模型备案奖励", "人工智能"),
    ("工业软件首购首用", "软件"),
    ("信创适配验证中心建设", "软件"),
    ("开源项目贡献奖励", "软件"),
]
CATEGORY = {"出海": "国际化", "软件": "软件产业", "算力": "算力基础设施", "人工智能": "人工智能"}
CITIES = [
    ("gz", "广州市", "docx"),
    ("sz", "深圳市", "html"),
    ("hz", "杭州市", "pdf"),
    ("cd", "成都市", "docx-simple"),
]
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def rows_for(city_index: int) -> list[dict[str, str]]:
    rng = random.Random(1000 + city_index)
    out = []
    for name, kind in ITEMS:
        ratio = rng.choice([20, 25, 30, 35, 40, 45, 50, 60, 70])
        cap = rng.choice([50, 80, 100, 150, 200, 300, 500, 800])
        out.append(
            {"item": name, "category": CATEGORY[kind], "ratio": f"{ratio}%", "cap": f"{cap}万元", "dept": f"市{kind}主管部门"}
        )
    return out


def intro(city: str) -> list[str]:
    return [
        f"{city}促进软件和信息技术服务业高质量发展若干措施",
        f"为加快建设软件名城，推动{city}软件和信息技术服务业高质量发展，制定本措施。",
        "一、支持范围",
        f"在{city}注册、具有独立法人资格的软件和信息技术服务企业，可按本措施申请资金支持。",
        "二、补贴标准",
        "各类项目的补贴比例和单个企业年度补贴上限见下表。",
    ]


def outro(city: str) -> list[str]:
    return [
        "三、申报程序",
        f"企业通过{city}政务服务网提交申请，主管部门会同财政部门审核后拨付资金。",
        "四、附则",
        "本措施自印发之日起施行，有效期三年。",
        "附件1：申报材料清单",
        "1. 营业执照复印件；2. 上年度财务审计报告；3. 项目合同及发票。",
    ]


def write_docx(path: Path, city: str, rows: list[dict[str, str]], merged: bool) -> None:
    import docx

    d = docx.Document()
    lines = intro(city)
    d.add_heading(lines[0], level=1)
    for line in lines[1:]:
        d.add_paragraph(line)
    if merged:
        t = d.add_table(rows=2 + len(rows), cols=4)
        t.style = "Table Grid"
        t.cell(0, 0).merge(t.cell(1, 0)).text = "类别"
        t.cell(0, 1).merge(t.cell(1, 1)).text = "项目"
        t.cell(0, 2).merge(t.cell(0, 3)).text = "补贴标准"
        t.cell(1, 2).text = "补贴比例"
        t.cell(1, 3).text = "单个企业上限"
        r = 2
        for cat in dict.fromkeys(x["category"] for x in rows):
            group = [x for x in rows if x["category"] == cat]
            top = t.cell(r, 0)
            if len(group) > 1:
                top = top.merge(t.cell(r + len(group) - 1, 0))
            top.text = cat
            for x in group:
                t.cell(r, 1).text = x["item"]
                t.cell(r, 2).text = x["ratio"]
                t.cell(r, 3).text = x["cap"]
                r += 1
        # rows were grouped by category: keep the order the questions use
    else:
        t = d.add_table(rows=1 + len(rows), cols=4)
        t.style = "Table Grid"
        for c, h in enumerate(["项目", "补贴比例", "单个企业上限", "受理部门"]):
            t.cell(0, c).text = h
        for r, x in enumerate(rows, start=1):
            for c, v in enumerate([x["item"], x["ratio"], x["cap"], x["dept"]]):
                t.cell(r, c).text = v
    for line in outro(city):
        d.add_paragraph(line)
    d.save(str(path))


def write_html(path: Path, city: str, rows: list[dict[str, str]]) -> None:
    lines = intro(city)
    body = [f"<h1>{lines[0]}</h1>"] + [f"<p>{x}</p>" for x in lines[1:]]
    table = [
        "<table border='1'><caption>补贴标准表</caption>",
        "<thead><tr><th rowspan='2'>项目</th><th colspan='2'>补贴标准</th><th rowspan='2'>受理部门</th></tr>",
        "<tr><th>补贴比例</th><th>单个企业上限</th></tr></thead><tbody>",
    ]
    for i, x in enumerate(rows):
        # Two rows of the same department share one merged cell.
        dept = f"<td rowspan='2'>{x['dept']}</td>" if i % 2 == 0 else ""
        if i % 2 == 0 and i + 1 < len(rows):
            dept = f"<td rowspan='2'>{x['dept']}</td>"
            rows[i + 1]["dept"] = x["dept"]
        elif i % 2 == 0:
            dept = f"<td>{x['dept']}</td>"
        table.append(f"<tr><td>{x['item']}</td><td>{x['ratio']}</td><td>{x['cap']}</td>{dept}</tr>")
    table.append("</tbody></table>")
    tail = [f"<p>{x}</p>" for x in outro(city)]
    html = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
        + lines[0]
        + "</title></head><body><nav>首页 | 政策文件</nav><article>"
        + "\n".join(body + table + tail)
        + "</article><footer>版权所有</footer></body></html>"
    )
    path.write_text(html, encoding="utf-8")


def write_pdf(path: Path, city: str, rows: list[dict[str, str]]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("noto", fname=str(FONT), collection_font_number=2)
    pdf.add_font("noto", style="B", fname=str(FONT).replace("Regular", "Bold"), collection_font_number=2)
    pdf.set_font("noto", size=11)
    pdf.add_page()
    lines = intro(city)
    pdf.set_font("noto", size=15)
    pdf.multi_cell(0, 9, lines[0], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("noto", size=11)
    for line in lines[1:]:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    with pdf.table(col_widths=(60, 30, 40, 50), text_align="CENTER") as table:
        table.row(["项目", "补贴比例", "单个企业上限", "受理部门"])
        for x in rows:
            table.row([x["item"], x["ratio"], x["cap"], x["dept"]])
    pdf.ln(2)
    for line in outro(city):
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))


def questions(code: str, city: str, rows: list[dict[str, str]], n: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for k, x in enumerate(rows[:n]):
        if k % 2 == 0:
            q, a, ev = f"{city}{x['item']}的补贴比例是多少？", x["ratio"], f"补贴比例：{x['ratio']}"
        else:
            q, a, ev = f"{city}{x['item']}的单个企业上限是多少？", x["cap"], f"单个企业上限：{x['cap']}"
        out.append(
            {
                "id": f"tables-{code}-{k + 1:02d}",
                "question": q,
                "answer": [a],
                "doc_id": f"{code}-software-subsidy",
                "evidence": f"{x['item']} … {ev}",
                "answerable": True,
                "language": "zh",
                "question_type": "table",
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = ap.parse_args()
    folder = args.out / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    suite: list[dict[str, object]] = []
    for i, (code, city, kind) in enumerate(CITIES):
        rows = rows_for(i)
        name = f"{code}-software-subsidy"
        if kind == "docx":
            write_docx(folder / f"{name}.docx", city, rows, merged=True)
        elif kind == "docx-simple":
            write_docx(folder / f"{name}.docx", city, rows, merged=False)
        elif kind == "html":
            write_html(folder / f"{name}.html", city, rows)
        else:
            write_pdf(folder / f"{name}.pdf", city, rows)
        suite.extend(questions(code, city, rows, 6))
    with (args.out / "tables_suite.jsonl").open("w", encoding="utf-8") as f:
        for q in suite:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(f"{len(suite)} questions over {len(CITIES)} documents in {folder}")


if __name__ == "__main__":
    main()
