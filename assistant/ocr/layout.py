"""From the engine's text boxes to text: boxes grouped into visual lines, top to bottom and left to right, and
how many of them run down the page (a page turned by 90° reads as columns)."""

from __future__ import annotations

from typing import Any

# One recognised text box: its corner points (in the image that was read), its text and the engine's score.
Line = tuple[list[list[float]], str, float]


def box_geometry(box: Any) -> tuple[float, float, float, float]:
    """(left, top, width, height) of a box given by its corner points."""
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def lines_to_text(lines: list[Line]) -> tuple[str, float]:
    """Group the engine's boxes into visual lines (top to bottom, left to right) and join them.

    Returns the text and the mean confidence weighted by the characters of each box."""
    items = []
    for box, text, score in lines:
        text = text.strip()
        if not text:
            continue
        x, y, _w, h = box_geometry(box)
        items.append((y + h / 2, x, max(h, 1.0), text, score))
    items.sort()
    rows: list[list[tuple[float, float, float, str, float]]] = []
    for item in items:
        if rows:
            row = rows[-1]
            centre = sum(i[0] for i in row) / len(row)
            if abs(item[0] - centre) < 0.5 * min(item[2], row[0][2]):
                row.append(item)
                continue
        rows.append([item])
    out = [" ".join(i[3] for i in sorted(row, key=lambda i: i[1])) for row in rows]
    chars = sum(len(i[3]) for i in items)
    confidence = sum(len(i[3]) * i[4] for i in items) / chars if chars else 0.0
    return "\n".join(out), confidence


def vertical_share(lines: list[Line]) -> float:
    """Share of text boxes taller than wide: a page turned by 90° reads as columns."""
    return tall_share([b for b, t, _ in lines if len(t.strip()) >= 2])


def tall_share(boxes: list[Any]) -> float:
    """Share of the boxes (corner points) more than 1.5 times as tall as wide."""
    sizes = [box_geometry(b) for b in boxes]
    if not sizes:
        return 0.0
    return sum(1 for _, _, w, h in sizes if h > 1.5 * w) / len(sizes)
