"""Terminal rendering of answers and sources, shared by `assistant ask` and the chat REPL."""

from __future__ import annotations

from rich.console import Console

from .textutil import section_parts
from .types import Answer, Passage


def passage_label(p: Passage) -> str:
    """'《title》 · 第三章 促进措施 › 第十二条 · p. 3': document, section path and page of a passage."""
    parts = [f"《{p.title}》" if p.title else p.doc_id]
    if section := " › ".join(section_parts(p.section)):
        parts.append(section)
    if p.page:
        parts.append(f"p. {p.page}")
    return " · ".join(parts)


def print_sources(console: Console, answer: Answer) -> None:
    """Supported citations with their quoted span; for a refusal, the closest passages as 'related'."""
    if answer.refused or not answer.citations:
        if answer.passages:
            console.print("[dim]Related passages (not an answer):[/]")
            for i, p in enumerate(answer.passages[:3], 1):
                console.print(f"  [dim]{i}. {passage_label(p)}[/]", highlight=False)
        return
    console.print("[bold]Sources[/]")
    for c in answer.citations:
        if not c.supported:
            continue
        console.print(f"  [cyan][{c.n}][/] {passage_label(c.passage)}", highlight=False)
        console.print(f"      “{c.quote.strip()}”", highlight=False, style="italic")
    unsupported = [c.n for c in answer.citations if not c.supported]
    if unsupported:
        console.print(f"  [yellow]Removed unsupported citation(s): {', '.join(f'[{n}]' for n in unsupported)}[/]")


def print_answer(console: Console, answer: Answer, *, with_text: bool = True) -> None:
    if answer.error:
        console.print(f"[bold red]LLM error:[/] {answer.error}", highlight=False)
    if with_text and answer.text:
        style = "yellow" if answer.refused else None
        console.print(answer.text, style=style, highlight=False)
    print_sources(console, answer)
    t = answer.timings
    console.print(
        f"[dim]retrieval {t.get('retrieval', 0):.2f}s · first token {t.get('first_token', 0):.2f}s · "
        f"total {t.get('total', 0):.2f}s · {answer.backend}[/]"
    )
