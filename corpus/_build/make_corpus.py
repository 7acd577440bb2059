#!/usr/bin/env python3
"""Regenerate the sample policy corpus in corpus/ from the sources in corpus/_build/src/.

The documents are illustrative samples written for this project; they are not official texts.

Usage (from the repository root):

    .venv/bin/python corpus/_build/make_corpus.py            # write all documents
    .venv/bin/python corpus/_build/make_corpus.py --check    # also print pypdf page texts

Needs fpdf2 and python-docx, plus a CJK TrueType font for the PDF. The font is looked up in
this order: $CORPUS_CJK_FONT, WenQuanYi Micro Hei (Debian package fonts-wqy-microhei),
Noto Sans CJK (fonts-noto-cjk), Droid Sans Fallback.

Source format (one block per line, UTF-8):

    = text      document title
    ^ text      centred line (文号, issuing body, date, notes)
    > text      right-aligned line (落款: issuing body / date)
    # text      level-1 heading (第一章 … / 一、…)
    ## text     level-2 heading (（一）…)
    other       body paragraph (第X条　…, 1. …, （一）… list items, prose)

Each output format renders the same blocks, so the text extracted from every file contains the
same sentences as the source (whitespace and line wrapping aside).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import io
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

BUILD = Path(__file__).resolve().parent
SRC = BUILD / "src"
CORPUS = BUILD.parent


@dataclass(frozen=True)
class Block:
    kind: str  # title | center | right | h1 | h2 | para
    text: str


@dataclass(frozen=True)
class DocSpec:
    src: str  # source file name in src/
    out: str  # output file name in corpus/
    fmt: str  # pdf | docx | html-gd | html-sz | md | txt
    encoding: str
    docno: str
    issuer: str
    date: dt.date
    lang: str = "zh"
    newline: str = "\n"


DOCS: list[DocSpec] = [
    DocSpec("gd-software-centre-plan.txt", "gd-software-centre-plan.pdf", "pdf", "binary",
            "粤府办〔2025〕12号", "广东省人民政府办公厅", dt.date(2025, 3, 18)),
    DocSpec("gd-ai-software-llm.txt", "gd-ai-software-llm.docx", "docx", "binary",
            "粤工信软件〔2025〕7号", "广东省工业和信息化厅", dt.date(2025, 4, 22)),
    DocSpec("gd-core-software.txt", "gd-core-software.html", "html-gd", "utf-8",
            "粤工信规字〔2025〕3号", "广东省工业和信息化厅　广东省科学技术厅", dt.date(2025, 5, 9)),
    DocSpec("gd-openharmony.txt", "gd-openharmony.md", "md", "utf-8",
            "粤工信函〔2025〕45号", "广东省工业和信息化厅　广东省能源局　广东省交通运输厅　广东省海洋局",
            dt.date(2025, 6, 12)),
    DocSpec("gd-xinchuang-parks.txt", "gd-xinchuang-parks.txt", "txt", "gbk",
            "粤工信规字〔2025〕9号", "广东省工业和信息化厅", dt.date(2025, 7, 8), newline="\r\n"),
    DocSpec("gd-software-global.txt", "gd-software-global.txt", "txt", "utf-8",
            "粤商务服字〔2025〕21号", "广东省商务厅　广东省工业和信息化厅", dt.date(2025, 8, 15)),
    DocSpec("gd-software-centre-plan-en.txt", "gd-software-centre-plan-en.md", "md", "utf-8",
            "粤府办〔2025〕12号", "General Office of the People's Government of Guangdong Province",
            dt.date(2025, 3, 18), lang="en"),
    DocSpec("sz-computing-vouchers.txt", "sz-computing-vouchers.html", "html-sz", "utf-8",
            "深工信规〔2025〕4号", "深圳市工业和信息化局　深圳市发展和改革委员会　深圳市政务服务和数据管理局",
            dt.date(2025, 9, 3)),
]


def parse(path: Path) -> list[Block]:
    blocks: list[Block] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        for prefix, kind in (("## ", "h2"), ("# ", "h1"), ("= ", "title"), ("^ ", "center"), ("> ", "right")):
            if line.startswith(prefix):
                blocks.append(Block(kind, line[len(prefix):].strip()))
                break
        else:
            blocks.append(Block("para", line.strip()))
    if not blocks or blocks[0].kind != "title":
        raise ValueError(f"{path}: the first line must be the title (= …)")
    return blocks


# ---------------------------------------------------------------------------- PDF

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
]


def find_cjk_font() -> str:
    env = os.environ.get("CORPUS_CJK_FONT")
    for cand in ([env] if env else []) + FONT_CANDIDATES:
        if cand and Path(cand).is_file():
            return cand
    sys.exit("No CJK font found: apt-get install -y fonts-wqy-microhei (or set CORPUS_CJK_FONT)")


# Characters that must not start a line (they hang in the right margin instead), and characters
# that must not end one (they move to the next line): the usual Chinese line-breaking rules.
NO_LINE_START = set("，。、；：？！）》」』】〕”’%％,.;:?!)]")
NO_LINE_END = set("（《「『【〔“‘([")


def wrap_cjk(pdf, text: str, width: float) -> list[str]:
    """Break text into lines of at most `width` (closing punctuation may hang past it)."""
    lines: list[str] = []
    cur = ""
    for ch in text:
        if cur and pdf.get_string_width(cur + ch) > width and ch not in NO_LINE_START:
            carry = ""
            while cur and cur[-1] in NO_LINE_END:
                carry = cur[-1] + carry
                cur = cur[:-1]
            # keep runs of ASCII letters/digits (numbers like 2027, 3.2) together
            if ch.isascii() and ch.isalnum():
                j = len(cur)
                while j > 0 and cur[j - 1].isascii() and (cur[j - 1].isalnum() or cur[j - 1] == "."):
                    j -= 1
                if 0 < j < len(cur):
                    carry = cur[j:] + carry
                    cur = cur[:j]
            lines.append(cur)
            cur = carry + ch
        else:
            cur += ch
    if cur:
        lines.append(cur)
    return lines


def render_pdf(spec: DocSpec, blocks: list[Block], out: Path) -> None:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    class PolicyPDF(FPDF):
        def footer(self) -> None:  # page number in the Chinese official style: — 1 —
            self.set_y(-18)
            self.set_font("cjk", size=11)
            self.cell(0, 8, f"— {self.page_no()} —", align="C")

    pdf = PolicyPDF(format="A4")
    pdf.set_margins(left=28, top=30, right=26)
    pdf.set_auto_page_break(auto=True, margin=28)
    pdf.add_font("cjk", fname=find_cjk_font())
    title = blocks[0].text
    pdf.set_title(title)
    pdf.set_author(spec.issuer)
    pdf.set_subject(spec.docno)
    pdf.set_creator("corpus/_build/make_corpus.py")
    pdf.set_creation_date(dt.datetime(spec.date.year, spec.date.month, spec.date.day, 9, 0,
                                      tzinfo=dt.timezone(dt.timedelta(hours=8))))
    pdf.add_page()
    w = pdf.epw

    def put(text: str, size: float, height: float, align: str, indent: str = "") -> None:
        pdf.set_font("cjk", size=size)
        for line in wrap_cjk(pdf, indent + text, w):
            pdf.cell(w, height, line, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    for b in blocks:
        if b.kind == "title":
            put(b.text, 19, 11, "C")
            pdf.ln(4)
        elif b.kind == "center":
            put(b.text, 14, 9, "C")
            pdf.ln(2)
        elif b.kind == "right":
            put(b.text, 14, 9, "R")
        elif b.kind == "h1":
            pdf.ln(2)
            put(b.text, 15, 10, "L")
        else:  # h2 and body paragraphs: two-character first-line indent
            put(b.text, 14, 9, "L", indent="\u3000\u3000")
    pdf.output(str(out))


# ---------------------------------------------------------------------------- DOCX

def render_docx(spec: DocSpec, blocks: list[Block], out: Path) -> None:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    d = docx.Document()

    def east_asian(style_name: str, font: str, size: float | None = None) -> None:
        st = d.styles[style_name]
        st.font.name = font
        if size:
            st.font.size = Pt(size)
        rpr = st.element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(rfonts)
        rfonts.set(qn("w:eastAsia"), font)

    east_asian("Normal", "仿宋_GB2312", 16)
    east_asian("Title", "方正小标宋简体", 22)
    east_asian("Heading 1", "黑体", 16)
    east_asian("Heading 2", "楷体_GB2312", 16)

    cp = d.core_properties
    cp.title = blocks[0].text
    cp.author = spec.issuer
    cp.subject = spec.docno
    cp.language = "zh-CN"
    cp.created = dt.datetime(spec.date.year, spec.date.month, spec.date.day, 9, 0)
    cp.modified = cp.created
    cp.last_modified_by = spec.issuer

    for b in blocks:
        if b.kind == "title":
            p = d.add_heading(b.text, level=0)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif b.kind == "h1":
            d.add_heading(b.text, level=1)
        elif b.kind == "h2":
            d.add_heading(b.text, level=2)
        else:
            p = d.add_paragraph(b.text)
            if b.kind == "center":
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            elif b.kind == "right":
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            else:
                p.paragraph_format.first_line_indent = Pt(32)
    # Save with fixed zip timestamps so that regenerating gives a byte-identical file.
    buf = io.BytesIO()
    d.save(buf)
    stamp = (spec.date.year, spec.date.month, spec.date.day, 9, 0, 0)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))


# ---------------------------------------------------------------------------- HTML

GD_SIDEBAR = [
    "广东省制造业数字化转型实施方案",
    "广东省工业和信息化厅2025年部门预算公开",
    "关于开展2025年省级工业互联网标杆示范申报工作的通知",
    "广东省首版次软件产品推广应用目录（第二批）公示",
    "政策解读：核心软件攻关专项问答",
]
SZ_SIDEBAR = [
    "深圳市加快打造人工智能先锋城市行动方案",
    "深圳市工业和信息化局关于2025年度专项资金申报的通知",
    "图解：算力券怎么领、怎么用",
    "深圳市数据交易管理暂行办法",
]


def _content_html(blocks: list[Block], skip_title: bool) -> str:
    parts = []
    for b in blocks:
        t = html.escape(b.text, quote=False)
        if b.kind == "title":
            if not skip_title:
                parts.append(f'<h1 class="doc-title">{t}</h1>')
        elif b.kind == "center":
            parts.append(f'<p style="text-align: center;">{t}</p>')
        elif b.kind == "right":
            parts.append(f'<p style="text-align: right;">{t}</p>')
        elif b.kind == "h1":
            parts.append(f'<h3 style="text-align: center;">{t}</h3>')
        elif b.kind == "h2":
            parts.append(f"<h4>{t}</h4>")
        else:
            parts.append(f'<p style="text-indent: 2em;">{t}</p>')
    return "\n".join(parts)


def render_html_gd(spec: DocSpec, blocks: list[Block], out: Path) -> None:
    title = html.escape(blocks[0].text, quote=False)
    side = "\n".join(f'        <li><a href="/gkmlpt/content/{i}.html">{html.escape(s)}</a></li>'
                     for i, s in enumerate(GD_SIDEBAR, start=4410231))
    page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - 广东省工业和信息化厅</title>
<meta name="SiteName" content="广东省工业和信息化厅">
<meta name="ColumnName" content="政策文件">
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{spec.date.isoformat()} 10:30">
<meta name="ContentSource" content="{html.escape(spec.issuer)}">
<link rel="stylesheet" href="/css/common.css">
<script src="/js/jquery.min.js"></script>
</head>
<body>
<div class="top-bar">
  <div class="wrap">
    <span>欢迎访问广东省工业和信息化厅门户网站</span>
    <a href="/wza/">无障碍</a> | <a href="/zzms/">长者模式</a> | <a href="/en/">English</a>
  </div>
</div>
<header class="header">
  <div class="wrap">
    <div class="logo"><a href="/"><img src="/images/logo.png" alt="广东省工业和信息化厅"></a></div>
    <form class="search" action="/search/">
      <input type="text" name="q" placeholder="请输入关键词">
      <button type="submit">搜索</button>
    </form>
  </div>
  <nav class="nav">
    <ul>
      <li><a href="/">首页</a></li>
      <li><a href="/zwgk/">政务公开</a></li>
      <li><a href="/zwfw/">政务服务</a></li>
      <li><a href="/hdjl/">互动交流</a></li>
      <li><a href="/ztzl/">专题专栏</a></li>
      <li><a href="/sjfb/">数据发布</a></li>
    </ul>
  </nav>
</header>
<div class="breadcrumb wrap">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; <a href="/zwgk/zcwj/">政策文件</a></div>
<div class="main-wrap wrap">
  <aside class="sidebar">
    <div class="side-box">
      <h3>相关文件</h3>
      <ul>
{side}
      </ul>
    </div>
    <div class="side-box">
      <h3>政务服务</h3>
      <ul>
        <li><a href="/zwfw/bsznn/">办事指南</a></li>
        <li><a href="/zwfw/zxsb/">在线申报</a></li>
        <li><a href="/hdjl/tzgg/">通知公告</a></li>
      </ul>
    </div>
  </aside>
  <main class="main">
    <table class="meta-table">
      <tr><td>索引号：</td><td>006940156/2025-00218</td><td>分类：</td><td>工业和信息化</td></tr>
      <tr><td>发布机构：</td><td>{html.escape(spec.issuer)}</td><td>成文日期：</td><td>{spec.date.isoformat()}</td></tr>
      <tr><td>文号：</td><td>{html.escape(spec.docno)}</td><td>发布日期：</td><td>{spec.date.isoformat()}</td></tr>
    </table>
    <article class="article">
      <h1 class="article-title">{title}</h1>
      <div class="article-meta">
        <span>发布时间：{spec.date.isoformat()} 10:30</span>
        <span>来源：广东省工业和信息化厅</span>
      </div>
      <div class="content" id="zoom">
{_content_html(blocks, skip_title=True)}
      </div>
    </article>
    <div class="article-tools">
      <a href="javascript:window.print()">【打印本页】</a>
      <a href="javascript:window.close()">【关闭窗口】</a>
      <span>分享到：微信 微博</span>
    </div>
  </main>
</div>
<footer class="footer">
  <div class="wrap">
    <p><a href="/wzdt/">网站地图</a> | <a href="/lxwm/">联系我们</a> | <a href="/sybz/">使用帮助</a> | <a href="/yszc/">隐私政策</a></p>
    <p>主办单位：广东省工业和信息化厅　地址：广州市越秀区（示例地址）</p>
    <p>网站标识码：0000000000　粤ICP备00000000号（示例）</p>
    <p>本页面为项目演示样例，非官方网页。</p>
  </div>
</footer>
<script>var _hmt = _hmt || []; /* site statistics placeholder */</script>
</body>
</html>
"""
    out.write_text(page, encoding="utf-8", newline="\n")


def render_html_sz(spec: DocSpec, blocks: list[Block], out: Path) -> None:
    title = html.escape(blocks[0].text, quote=False)
    side = "\n".join(f'          <li><a href="/xxgk/zcjd/{i}.html">{html.escape(s)}</a></li>'
                     for i, s in enumerate(SZ_SIDEBAR, start=11820301))
    page = f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{title}_深圳市工业和信息化局</title>
<meta name="keywords" content="算力券,数据要素,人工智能">
<meta name="description" content="{title}">
<link rel="stylesheet" type="text/css" href="/szgxj/css/index.css">
</head>
<body>
<div id="header">
  <div class="header-top">
    <div class="fl">深圳政府在线 | 深圳市工业和信息化局</div>
    <div class="fr"><a href="#">简体</a> | <a href="#">繁體</a> | <a href="#">English</a> | <a href="#">无障碍浏览</a></div>
  </div>
  <div class="menu">
    <a href="/">首页</a><a href="/xxgk/">信息公开</a><a href="/zwfw/">政务服务</a><a href="/hdjlpt/">互动交流</a><a href="/ztzl/">专题专栏</a>
  </div>
</div>
<div class="position">您现在的位置：<a href="/">首页</a> &gt; <a href="/xxgk/">信息公开</a> &gt; <a href="/xxgk/zcfg/">政策法规</a> &gt; 规范性文件</div>
<div class="container">
  <div class="left-column">
    <div class="box">
      <div class="box-title">政策解读</div>
      <ul>
{side}
      </ul>
    </div>
    <div class="box qr"><img src="/szgxj/images/wx.png" alt="微信公众号"><p>扫一扫关注微信公众号</p></div>
  </div>
  <div class="right-column">
    <div class="content">
{_content_html(blocks, skip_title=False)}
    </div>
    <div class="fx-box">
      <span>【字体：<a href="#">大</a> <a href="#">中</a> <a href="#">小</a>】</span>
      <span><a href="javascript:window.print();">打印</a></span>
      <span>分享：</span>
    </div>
    <div class="xgwj">
      <div class="xgwj-title">相关附件</div>
      <p>无</p>
    </div>
  </div>
</div>
<div id="footer">
  <p>深圳市工业和信息化局　版权所有　|　<a href="#">网站地图</a>　|　<a href="#">联系我们</a></p>
  <p>粤ICP备00000000号（示例）　本页面为项目演示样例，非官方网页。</p>
</div>
</body>
</html>
"""
    out.write_text(page, encoding="utf-8", newline="\n")


# ---------------------------------------------------------------------------- Markdown / TXT

def render_md(spec: DocSpec, blocks: list[Block], out: Path) -> None:
    lines: list[str] = []
    for b in blocks:
        if b.kind == "title":
            lines.append(f"# {b.text}")
        elif b.kind == "h1":
            lines.append(f"## {b.text}")
        elif b.kind == "h2":
            lines.append(f"### {b.text}")
        else:
            lines.append(b.text)
        lines.append("")
    out.write_text("\n".join(lines), encoding=spec.encoding, newline="\n")


def render_txt(spec: DocSpec, blocks: list[Block], out: Path) -> None:
    lines: list[str] = []
    for i, b in enumerate(blocks):
        if b.kind == "h1" or (i > 0 and b.kind == "para" and blocks[i - 1].kind in ("title", "center")):
            lines.append("")
        lines.append(b.text)
    text = spec.newline.join(lines) + spec.newline
    out.write_bytes(text.encode(spec.encoding))  # raises if a character is not encodable (GBK)


RENDERERS = {
    "pdf": render_pdf,
    "docx": render_docx,
    "html-gd": render_html_gd,
    "html-sz": render_html_sz,
    "md": render_md,
    "txt": render_txt,
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="print the pypdf text of the PDF pages")
    args = ap.parse_args()
    for spec in DOCS:
        blocks = parse(SRC / spec.src)
        out = CORPUS / spec.out
        RENDERERS[spec.fmt](spec, blocks, out)
        print(f"{out.relative_to(CORPUS.parent)}  {out.stat().st_size:>7} bytes  {spec.fmt}/{spec.encoding}")
    if args.check:
        from pypdf import PdfReader
        for spec in DOCS:
            if spec.fmt == "pdf":
                r = PdfReader(str(CORPUS / spec.out))
                for i, page in enumerate(r.pages, 1):
                    print(f"----- {spec.out} page {i} -----")
                    print(page.extract_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
