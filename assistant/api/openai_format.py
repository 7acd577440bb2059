"""OpenAI chat format <-> the assistant: messages to a question and history, answers to completions.

The reply's text is the answer with its [n] markers, then footnotes listing the sources, so a plain
OpenAI client shows them. The extension field `citations` carries what `assistant ask --json` prints
for each citation (n, doc_id, title, section, page, quote, supported, edition, effective_date, validity).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

from ..conversation import Turn
from ..types import Answer

FOOTNOTE_RULE = "\n\n---\n"
_FOOTNOTE_TITLE = re.compile(r"^\[\d+\] 《?([^》,，\n]+)》?", re.M)


class MessageError(ValueError):
    """The messages cannot be read as a conversation ending in a user question."""


def text_of(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if content is None:
        return ""
    raise MessageError("message content must be a string or a list of content parts")


def split_messages(messages: list[dict[str, Any]]) -> tuple[str, list[Turn]]:
    """The question (the last user message) and the history (earlier user/assistant pairs).

    System and developer messages are read as nothing: the answer's rules are the assistant's own, so a
    caller's instructions cannot turn off citation checking or refusal. An assistant message's footnotes
    give the titles the follow-up condensing needs, and are cut from its text.
    """
    if not messages:
        raise MessageError("messages must not be empty")
    turns: list[Turn] = []
    pending: str | None = None
    question: str | None = None
    for i, m in enumerate(messages):
        role, text = m.get("role"), text_of(m.get("content"))
        last = i == len(messages) - 1
        if role == "user":
            if last:
                question = text
            else:
                pending = text if pending is None else f"{pending}\n{text}"
        elif role == "assistant" and pending is not None:
            answer, _, notes = text.partition(FOOTNOTE_RULE)
            turns.append(Turn(pending, answer.strip(), _FOOTNOTE_TITLE.findall(notes)))
            pending = None
    if question is None:
        raise MessageError("the last message must be the user's question (role 'user')")
    return question, turns


def footnotes(answer: Answer) -> str:
    """The sources under an answer: one line per citation, `[n] 《title》, section, p. N`; '' for none."""
    lines = []
    for c in sorted(answer.citations, key=lambda c: c.n):
        p = c.passage
        parts = [f"《{p.title}》" if p.title else p.doc_id]
        if p.meta.get("doc_number"):
            parts.append(str(p.meta["doc_number"]))
        if p.section:
            parts.append(p.section)
        if p.page:
            parts.append(f"p. {p.page}")
        lines.append(f"[{c.n}] " + ", ".join(parts))
    seen: set[str] = set()
    unique = [line for line in lines if not (line in seen or seen.add(line))]  # type: ignore[func-returns-value]
    return FOOTNOTE_RULE + "\n".join(unique) if unique else ""


def citations(answer: Answer) -> list[dict[str, Any]]:
    """The `citations` extension field: the `ask --json` citation dicts."""
    return [c.to_dict() for c in answer.citations]


def completion_id() -> str:
    return "chatcmpl-" + secrets.token_hex(12)


def usage(question: str, text: str) -> dict[str, int]:
    """Rough token counts (characters / 2 for Chinese-heavy text): clients only need plausible numbers."""
    prompt, completion = max(1, len(question) // 2), max(1, len(text) // 2)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(answer: Answer, model: str, cid: str | None = None) -> dict[str, Any]:
    """A non-streamed `chat.completion` object with the extension fields `citations` and `refused`."""
    content = answer.text + footnotes(answer)
    return {
        "id": cid or completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop", "logprobs": None}
        ],
        "usage": usage(answer.question, content),
        "citations": citations(answer),
        "refused": answer.refused,
    }


def sse(data: dict[str, Any] | str) -> str:
    """One server-sent event: `data` as JSON (a string such as "[DONE]" as it is)."""
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """One `chat.completion.chunk` of a streamed reply."""
    return {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
        **extra,
    }


def correction(streamed: str, answer: Answer) -> str:
    """What to append when the checked answer differs from the streamed text (markers removed or added,
    the answer replaced by a quote or the refusal): the checked answer, under a label."""
    if streamed.strip() == answer.text.strip():
        return ""
    label = "核对后的答案：" if answer.language == "zh" else "Checked answer:"
    return f"\n\n{label}\n{answer.text}"
