"""Bytes of a text file as str: byte-order marks, UTF-8, GB18030, then a guess."""

from __future__ import annotations

import codecs

from ..errors import DocumentError

# Bytes that never occur in UTF-8 or GB18030 text (tab, newline, CR, form feed and ESC excepted).
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32), 127])
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _looks_binary(data: bytes) -> bool:
    sample = data[: 1 << 16]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(len(sample) * 0.02, 2)


def decode_text(data: bytes, where: str) -> str:
    """Bytes of a text file as str: BOM, else strict UTF-8, else strict GB18030, else charset-normalizer's guess."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DocumentError(
                    where, f"undecodable text: has a {encoding} byte-order mark but {exc.reason}"
                ) from exc
            if "\x00" in text[: 1 << 16]:
                raise DocumentError(where, "binary data, not text")
            return text
    if _looks_binary(data):
        raise DocumentError(where, "binary data, not text")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    import charset_normalizer

    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise DocumentError(
            where, "undecodable text: not UTF-8 or GB18030 and no other encoding fits; re-save it as UTF-8"
        )
    return str(best)
