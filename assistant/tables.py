"""Tables from DOCX, HTML and PDF as text blocks that keep their header with every group of rows.

A flattened table loses which column a value belongs to: "软件企业出海保险 50% 200万元" does not say
that 50% is the 补贴比例. Every table becomes one block per group of rows, each group repeating
the header, so whichever chunk a row lands in carries its column names:

    【表格】各类补贴标准
    表头：项目 | 补贴比例 | 上限
    行：软件企业出海保险 | 补贴比例：50% | 上限：200万元
    行：首版次软件保险 | 补贴比例：30% | 上限：100万元

Merged cells are expanded: a cell spanning columns or rows gives its text to every position it
covers, and a two-row header whose top row has merged cells is combined ("补贴标准·比例").
`parse_table_block` reads a block back (the source viewer renders it as a table).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any

TABLE_MARK = "【表格】"
HEADER_PREFIX = "表头："
ROW_PREFIX = "行："
CELL_SEP = " | "
LABEL_SEP = "："
GROUP_CHARS = 360  # a group of rows (with its header) stays under this, so one chunk holds it whole


@dataclass
class Table:
    """A table as a grid of cell texts: header rows combined into one header, then the body rows."""

    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    caption: str = ""


def _clean(text: str | None) -> str:
    return " ".join((text or "").replace("|", "｜").split())


def _combine_header(rows: list[list[str]]) -> list[str]:
    """Several header rows into one: "补贴标准" over "比例" becomes "补贴标准·比例"."""
    width = max(len(r) for r in rows)
    out = []
    for col in range(width):
        parts: list[str] = []
        for row in rows:
            value = row[col] if col < len(row) else ""
            if value and (not parts or parts[-1] != value):
                parts.append(value)
        out.append("·".join(parts))
    return out


def _looks_numeric(value: str) -> bool:
    return bool(re.search(r"\d", value)) and len(re.sub(r"[\d.,%％万亿元千百个年月日\s\-—~～/]", "", value)) <= 2


def from_grid(grid: list[list[str]], *, header_rows: int | None = None, caption: str = "") -> Table | None:
    """A `Table` from a full grid (merged cells already expanded). Returns None for a layout table with one row
    or one column. `header_rows` default: 1, or 2 when the top row has merged (repeated) cells and the second row
    looks like labels rather than data."""
    grid = [[_clean(c) for c in row] for row in grid]
    grid = [row for row in grid if any(row)]
    if len(grid) < 2:
        return None
    width = max(len(r) for r in grid)
    if width < 2:
        return None
    grid = [row + [""] * (width - len(row)) for row in grid]
    # Drop columns that are empty everywhere (spacer columns of layout grids).
    keep = [c for c in range(width) if any(row[c] for row in grid)]
    grid = [[row[c] for c in keep] for row in grid]
    if header_rows is None:
        top = grid[0]
        merged_top = any(a and a == b for a, b in zip(top, top[1:], strict=False))
        second_labels = len(grid) > 2 and not any(_looks_numeric(v) for v in grid[1] if v)
        header_rows = 2 if merged_top and second_labels else 1
    header = _combine_header(grid[:header_rows])
    return Table(header=header, rows=grid[header_rows:], caption=caption)


def _labelled(row: list[str], labels: list[str]) -> list[str]:
    """A row's cells, each after the first named by its column ("补贴比例：50%"), so a row line alone answers."""
    out = row[:1]
    for n, (cell, label) in enumerate(zip(row[1:], labels[1:], strict=False), start=1):
        merged = cell == row[n - 1]  # a cell spanning columns: named once, where it starts
        out.append(f"{label}{LABEL_SEP}{cell}" if cell and label and label != cell and not merged else cell)
    return out + row[len(labels) :] if len(row) > len(labels) else out


def _unlabelled(cell: str, label: str) -> str:
    prefix = f"{label}{LABEL_SEP}"
    return cell[len(prefix) :] if label and cell.startswith(prefix) else cell


def to_text(table: Table, group_chars: int = GROUP_CHARS) -> str:
    """The table as blocks separated by blank lines, each repeating the header over a group of rows; in a row,
    every cell after the first carries its column name."""
    head = f"{HEADER_PREFIX}{CELL_SEP.join(table.header)}"
    mark = f"{TABLE_MARK}{table.caption}".rstrip()
    base = len(mark) + len(head) + 2
    blocks: list[str] = []
    group: list[str] = []
    size = base
    labels = [h.rsplit("·", 1)[-1] for h in table.header]
    for row in table.rows:
        line = f"{ROW_PREFIX}{CELL_SEP.join(_labelled(row, labels))}"
        if group and size + len(line) + 1 > group_chars:
            blocks.append("\n".join([mark, head, *group]))
            group, size = [], base
        group.append(line)
        size += len(line) + 1
    if group or not blocks:
        blocks.append("\n".join([mark, head, *group]))
    return "\n\n".join(blocks)


_LOOSE_TABLE_LINE = re.compile(f"\n[ \t]*\n(?=(?:{HEADER_PREFIX}|{ROW_PREFIX}))")


def tighten(text: str) -> str:
    """Remove the blank lines an HTML-to-text extractor puts between the lines of a table block."""
    return _LOOSE_TABLE_LINE.sub("\n", text)


def parse_table_block(text: str) -> tuple[str, list[str], list[list[str]]] | None:
    """(caption, header, rows) from a block written by `to_text` (one group), or None when `text` holds none."""
    caption, header, rows = "", None, []
    for line in text.split("\n"):
        line = line.strip()
        if line.startswith(TABLE_MARK):
            caption = line[len(TABLE_MARK) :].strip()
        elif line.startswith(HEADER_PREFIX):
            header = [c.strip() for c in line[len(HEADER_PREFIX) :].split("|")]
        elif line.startswith(ROW_PREFIX) and header is not None:
            labels = [h.rsplit("·", 1)[-1] for h in header]
            cells = [c.strip() for c in line[len(ROW_PREFIX) :].split("|")]
            rows.append([_unlabelled(c, labels[i]) if i < len(labels) else c for i, c in enumerate(cells)])
    if header is None:
        return None
    return caption, header, rows


# ----- DOCX -----


def docx_table(table: Any, caption: str = "") -> Table | None:
    """A python-docx table: horizontally merged cells (gridSpan) and vertical merges (vMerge) are expanded
    by python-docx itself, which returns the spanning cell at every grid position it covers."""
    grid: list[list[str]] = []
    merged_top = False
    for r, row in enumerate(table.rows):
        cells = []
        previous = None
        for cell in row.cells:
            if r == 0 and previous is not None and cell._tc is previous:
                merged_top = True
            previous = cell._tc
            # A nested table's text comes with its cell's; keep its lines on one row.
            cells.append(" ".join(cell.text.split()))
        grid.append(cells)
    header_rows = None
    if merged_top and len(grid) > 2 and not any(_looks_numeric(v) for v in grid[1] if v):
        header_rows = 2
    return from_grid(grid, header_rows=header_rows or 1, caption=caption)


# ----- HTML -----


def html_grid(table: Any) -> tuple[list[list[str]], int]:
    """The grid of an lxml <table> element with rowspan/colspan expanded, and its count of header rows
    (rows in <thead>, or leading rows made only of <th>)."""
    rows = [tr for tr in table.iter("tr") if _owning_table(tr) is table]
    grid: list[list[str]] = []
    pending: dict[tuple[int, int], str] = {}
    header_rows = 0
    counting_header = True
    for r, tr in enumerate(rows):
        out: list[str] = []
        col = 0
        cells = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
        is_header = bool(cells) and (
            all(c.tag == "th" for c in cells) or tr.getparent() is not None and tr.getparent().tag == "thead"
        )
        for cell in cells:
            while (r, col) in pending:
                out.append(pending.pop((r, col)))
                col += 1
            text = " ".join(cell.text_content().split())
            span = _int_attr(cell, "colspan")
            down = _int_attr(cell, "rowspan")
            for dc in range(span):
                out.append(text)
                for dr in range(1, down):
                    pending[(r + dr, col + dc)] = text
            col += span
        while (r, col) in pending:
            out.append(pending.pop((r, col)))
            col += 1
        grid.append(out)
        if counting_header and is_header:
            header_rows += 1
        else:
            counting_header = False
    return grid, header_rows


def _owning_table(el: Any) -> Any:
    parent = el.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def _int_attr(el: Any, name: str) -> int:
    try:
        return max(1, min(int(str(el.get(name, "1")).strip() or 1), 100))
    except ValueError:
        return 1


def html_table(table: Any) -> Table | None:
    """A `Table` from an lxml <table> element."""
    grid, header_rows = html_grid(table)
    caption_el = table.find("caption")
    caption = " ".join(caption_el.text_content().split()) if caption_el is not None else ""
    return from_grid(grid, header_rows=header_rows or None, caption=caption)


def replace_html_tables(tree: Any) -> int:
    """Replace every outermost data <table> in an lxml tree by <p> paragraphs holding its text blocks, so the
    HTML text extractor keeps them as they are. Returns how many tables were replaced."""
    from lxml import etree  # type: ignore[import-untyped]

    count = 0
    for table in list(tree.iter("table")):
        if _owning_table(table) is not None:  # nested tables are part of their outer table's cells
            continue
        parsed = html_table(table)
        if parsed is None or not parsed.rows:
            continue
        div = etree.Element("div")
        for block in to_text(parsed).split("\n\n"):  # one paragraph per row group, rows on lines of their own
            p = etree.SubElement(div, "p")
            lines = block.split("\n")
            p.text = lines[0]
            for line in lines[1:]:
                br = etree.SubElement(p, "br")
                br.tail = line
        div.tail = table.tail
        parent = table.getparent()
        if parent is None:
            continue
        parent.replace(table, div)
        count += 1
    return count


# ----- PDF -----


def pdf_grid(rows: list[list[str | None]]) -> list[list[str]]:
    """pdfplumber's table rows (None where a merged cell continues) as a full grid: a merged cell's text is
    copied right across its columns and down its rows."""
    width = max((len(r) for r in rows), default=0)
    grid: list[list[str]] = []
    for r, row in enumerate(rows):
        out: list[str] = []
        for c in range(width):
            value = row[c] if c < len(row) else None
            if value is None:
                if c > 0 and out and (r == 0 or (grid and grid[-1][c] == grid[-1][c - 1])):
                    value = out[-1]  # continues a cell spanning columns
                elif grid:
                    value = grid[-1][c]  # continues a cell spanning rows
                else:
                    value = ""
            out.append(" ".join(value.split()))
        grid.append(out)
    return grid


def _text_in(textpage: Any, height: float, x0: float, top: float, x1: float, bottom: float) -> str:
    """PDFium's text inside a box given in pdfplumber's top-down coordinates."""
    if bottom - top < 0.5:
        return ""
    return str(textpage.get_text_bounded(x0, height - bottom, x1, height - top))


def pdf_tables_by_page(path: str, pages: list[int] | None = None) -> dict[int, tuple[str, list[Table]]]:
    """For each page (1-based) of a PDF that has ruled tables: (the page's text with each table replaced by its text
    block, the tables). Pages without tables are left out.

    pdfplumber finds the tables from their ruling lines; the text of every cell and of the page around the
    tables comes from PDFium, which reads the CJK fonts of more PDF writers than pdfminer does."""
    import pdfplumber
    import pypdfium2 as pdfium  # type: ignore[import-untyped]

    out: dict[int, tuple[str, list[Table]]] = {}
    doc = pdfium.PdfDocument(str(path))
    try:
        with pdfplumber.open(path) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                if pages is not None and number not in pages:
                    continue
                try:
                    if not page.rects and not page.lines:  # ruled tables need ruling lines: a cheap pre-check
                        continue
                    found = page.find_tables()
                    if not found:
                        continue
                    pg = doc[number - 1]
                    textpage = pg.get_textpage()
                    height = page.height
                    text_in = partial(_text_in, textpage, height)
                    parsed = []
                    for t in found:
                        rows = [
                            [text_in(*c) if c is not None else None for c in row.cells] for row in t.rows
                        ]
                        table = from_grid(pdf_grid(rows)) if rows else None
                        if table is not None and table.rows:
                            parsed.append((t.bbox, table))
                    if parsed:
                        parsed.sort(key=lambda x: x[0][1])
                        pieces: list[str] = []
                        y = 0.0
                        for bbox, table in parsed:
                            pieces.append(text_in(0, y, page.width, bbox[1]))
                            pieces.append(to_text(table))
                            y = bbox[3]
                        pieces.append(text_in(0, y, page.width, height))
                        text = "\n\n".join(p.replace("\r\n", "\n").strip() for p in pieces if p.strip())
                        out[number] = (text, [t for _, t in parsed])
                    textpage.close()
                    pg.close()
                finally:
                    page.close()
    finally:
        doc.close()
    return out


# ----- display -----


def text_with_tables_html(text: str, mark: tuple[int, int] | None = None) -> str | None:
    """HTML for a passage that holds table blocks: each block as a <table> (header row in <th>), other lines
    escaped; the rows overlapping `mark` (a span of `text`) are highlighted. None when `text` holds no table."""
    from html import escape

    if HEADER_PREFIX not in text:
        return None
    out: list[str] = []
    rows: list[str] = []
    labels: list[str] = []
    pos = 0

    def flush() -> None:
        if rows:
            out.append(f'<table class="src-table">{"".join(rows)}</table>')
            rows.clear()

    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        hit = bool(mark and mark[1] > mark[0] and start < mark[1] and mark[0] < end)
        if line.startswith(HEADER_PREFIX):
            header = [c.strip() for c in line[len(HEADER_PREFIX) :].split("|")]
            labels = [h.rsplit("·", 1)[-1] for h in header]
            rows.append(f"<tr>{''.join(f'<th>{escape(c)}</th>' for c in header)}</tr>")
        elif line.startswith(ROW_PREFIX) and rows:
            values = [c.strip() for c in line[len(ROW_PREFIX) :].split("|")]
            values = [_unlabelled(c, labels[i]) if i < len(labels) else c for i, c in enumerate(values)]
            cells = "".join(f"<td>{escape(c)}</td>" for c in values)
            rows.append(f'<tr{" class=hit" if hit else ""}>{cells}</tr>')
        else:
            flush()
            if line.startswith(TABLE_MARK):
                caption = line[len(TABLE_MARK) :].strip()
                if caption:
                    out.append(f'<div class="src-table-caption">{escape(caption)}</div>')
            elif line.strip():
                out.append(f"<mark>{escape(line)}</mark>" if hit else escape(line))
                out.append("\n")
    flush()
    return "".join(out)
