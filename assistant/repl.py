"""`assistant chat`: a terminal conversation over the Engine, streamed, with slash commands.

Interactive input uses prompt_toolkit (history, line editing); piped input is read
line by line, so scripts and tests can drive it. Ctrl-C stops the current answer,
not the session.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Iterator

from rich.console import Console

from .engine import Engine, Turn
from .errors import AssistantError
from .events import collect
from .render import passage_label, print_answer
from .types import Answer, Filters

HELP = """Commands:
  /sources        sources of the last answer (cited passages, or related ones after a refusal)
  /open N         the full text of passage N of the last answer
  /filter         show the current filter;  /filter doc=ID[,ID] issuer=NAME from=YYYY-MM-DD to=YYYY-MM-DD
                  as_of=YYYY-MM-DD (the editions in force on that date)
  /filter clear   remove the filter
  /asof DATE      answer from the editions in force on DATE (YYYY-MM-DD);  /asof  back to today
  /export FILE    save this conversation as a memo (FILE.md or FILE.docx)
  /good           the last answer was good;  /bad REASON  it was not (say what was wrong, or the right answer)
  /reset          start a new conversation
  /help           this help
  /quit           leave (also Ctrl-D)"""


def parse_filter(args: str) -> Filters:
    """`doc=a,b issuer=广东省人民政府 from=2024-01-01 to=2025-12-31 as_of=2024-06-30` -> Filters (Filters.parse)."""
    return Filters.parse(args)


def _lines(interactive: bool) -> Iterator[str]:
    if interactive:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import InMemoryHistory

        session: PromptSession[str] = PromptSession(history=InMemoryHistory())
        while True:
            try:
                yield session.prompt("? ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                return
    else:
        for line in sys.stdin:
            yield line.rstrip("\n")


class ChatSession:
    """State of one terminal conversation: history, filter, last answer."""

    def __init__(self, engine: Engine, console: Console, backend: str | None = None) -> None:
        self.engine = engine
        self.console = console
        self.backend = backend
        self.history: list[Turn] = []
        self.filters = Filters()
        self.last: Answer | None = None
        self.answers: list[Answer] = []  # this conversation's answers, for /export

    def command(self, line: str) -> bool:
        """Run a slash command; False means quit."""
        name, _, args = line[1:].partition(" ")
        args = args.strip()
        if name in ("quit", "exit", "q"):
            return False
        if name == "help":
            self.console.print(HELP, highlight=False)
        elif name == "reset":
            self.history.clear()
            self.answers.clear()
            self.last = None
            self.console.print("New conversation.")
        elif name == "sources":
            if self.last is None:
                self.console.print("No answer yet.")
            else:
                self.print_sources(self.last)
        elif name == "open":
            if self.last is None or not args.isdigit() or not 1 <= int(args) <= len(self.last.passages):
                self.console.print("Usage: /open N, with N from /sources.")
            else:
                p = self.last.passages[int(args) - 1]
                self.console.print(f"[bold]{passage_label(p)}[/]", highlight=False)
                self.console.print(p.text, highlight=False)
        elif name == "filter":
            if args == "clear":
                self.filters = Filters()
                self.console.print("Filter cleared.")
            elif args:
                try:
                    self.filters = parse_filter(args)
                    self.console.print(f"Filter: {self.filters}")
                except AssistantError as exc:
                    self.console.print(f"[red]{exc}[/]")
            else:
                self.console.print(f"Filter: {self.filters if not self.filters.is_empty() else 'none'}")
        elif name == "asof":
            try:
                self.filters = dataclasses.replace(self.filters, as_of=Filters.parse(f"as_of={args}").as_of if args else None)
                self.console.print(f"Editions in force on {self.filters.as_of or 'today'}.")
            except AssistantError as exc:
                self.console.print(f"[red]{exc}[/]")
        elif name == "export":
            self.export(args)
        elif name in ("good", "bad"):
            self.feedback(name, args)
        else:
            self.console.print(f"Unknown command /{name}. Type /help.")
        return True

    def export(self, target: str) -> None:
        from .export import save_memo

        if not target:
            self.console.print("Usage: /export FILE.md or /export FILE.docx")
            return
        try:
            path = save_memo(target, self.answers, self.engine.settings)
        except (AssistantError, OSError) as exc:
            self.console.print(f"[red]{exc}[/]", highlight=False, soft_wrap=True)
            return
        self.console.print(f"Saved {len(self.answers)} answer(s) to {path}", highlight=False, markup=False,
                           soft_wrap=True)  # fmt: skip

    def feedback(self, rating: str, reason: str) -> None:
        from .feedback import record

        if self.last is None:
            self.console.print("No answer yet.")
            return
        record(self.last, "good" if rating == "good" else "bad", self.engine.settings, reason, source="repl")
        self.console.print("Thanks — feedback saved." + ("" if reason or rating == "good" else
                           " (/bad REASON also records what was wrong or the right answer.)"))  # fmt: skip

    def print_sources(self, answer: Answer) -> None:
        """The passages of an answer by rank: document, section and page, and which [n] cite them."""
        cited: dict[str, list[int]] = {}
        for c in answer.citations:
            if c.supported:
                cited.setdefault(c.passage.chunk_id, []).append(c.n)
        for rank, p in enumerate(answer.passages, 1):
            marks = " ".join(f"[{n}]" for n in sorted(set(cited.get(p.chunk_id, []))))
            note = f"  — cited as {marks}" if marks else ""
            self.console.print(f"[{rank}] {passage_label(p)}{note}", highlight=False, markup=False, soft_wrap=True)

    def ask(self, question: str) -> None:
        def show_sources(passages: list) -> None:
            if passages:
                self.console.print("[dim]Searching: " + "; ".join(passage_label(p) for p in passages[:3]) + "[/]", highlight=False)

        stream = self.engine.stream(question, self.history, self.filters, backend=self.backend)
        streamed: list[str] = []

        def show_token(piece: str) -> None:
            streamed.append(piece)
            self.console.print(piece, end="", highlight=False, markup=False)

        answer: Answer | None = None
        try:
            answer = collect(stream, on_token=show_token, on_sources=show_sources)
        except KeyboardInterrupt:
            stream.close()
            self.console.print("\n[yellow]Stopped.[/]")
            return
        self.console.print()
        if answer is None:
            return
        self.last = answer
        self.answers.append(answer)
        if answer.text != "".join(streamed).strip():  # verification changed it: show the checked version
            self.console.rule("verified", style="dim")
            self.console.print(answer.text, style="yellow" if answer.refused else None, highlight=False)
        print_answer(self.console, answer, with_text=False)
        titles = [c.passage.title for c in answer.citations if c.supported] or [p.title for p in answer.passages[:1]]
        self.history.append(Turn(question=question, answer=answer.text, doc_titles=titles))

    def run(self, lines: Iterable[str]) -> None:
        self.console.print("Ask about the indexed policy documents. /help for commands, /quit to leave.")
        for line in lines:
            line = line.strip()
            if not line:
                continue
            if line.startswith("/"):
                if not self.command(line):
                    break
                continue
            try:
                self.ask(line)
            except AssistantError as exc:
                self.console.print(f"[red]{exc}[/]", highlight=False)


def run_chat(engine: Engine, console: Console, backend: str | None = None) -> None:
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    ChatSession(engine, console, backend).run(_lines(interactive))
