"""Look and behaviour of the page: Gradio theme (local fonts only), CSS, and the small JS of the HTML views."""

from __future__ import annotations

from typing import Any

# System fonts only: a Google-hosted font would make every page load try the network.
CJK_SANS = [
    "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei",
    "WenQuanYi Micro Hei", "system-ui", "-apple-system", "Segoe UI", "sans-serif",
]
MONO = ["SFMono-Regular", "Menlo", "Consolas", "Noto Sans Mono CJK SC", "monospace"]


def make_theme() -> Any:
    """A calm blue theme with CJK-friendly system fonts."""
    import gradio as gr

    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate", radius_size="md", font=CJK_SANS, font_mono=MONO)


# Citation chips in the chat select the source; `trigger` sends the event to the server.
CHAT_JS = """
element.addEventListener('click', (e) => {
  const chip = e.target.closest('[data-cite]');
  if (!chip) return;
  element.querySelectorAll('.cite.active').forEach((c) => c.classList.remove('active'));
  chip.classList.add('active');
  trigger('cite', {turn: Number(chip.dataset.turn), n: Number(chip.dataset.n)});
});
// Follow the conversation as it grows (a MutationObserver fires on every re-render of the value).
new MutationObserver(() => {
  const box = element.querySelector('.chat');
  if (box) box.scrollTop = box.scrollHeight;
}).observe(element, {childList: true, subtree: true, characterData: true});
"""

SOURCES_JS = """
element.addEventListener('click', (e) => {
  const btn = e.target.closest('[data-open]');
  if (btn) trigger('open_doc', {turn: Number(btn.dataset.turn), n: Number(btn.dataset.n)});
});
let lastFocus = null;
new MutationObserver(() => {
  const card = element.querySelector('.src-card.focused');
  const box = element.querySelector('.sources');
  if (!card || !box || card.id === lastFocus) return;
  lastFocus = card.id;
  box.scrollTop = card.offsetTop - 8;
}).observe(element, {childList: true, subtree: true, attributes: true, attributeFilter: ['class']});
"""

DOC_JS = """
// The viewer may still be collapsed when new text arrives: retry until it has a height.
function toHit(tries) {
  const hit = element.querySelector('#doc-hit') || element.querySelector('.hl-passage');
  const box = element.querySelector('.doc-body');
  if (!hit || !box) return;
  if (box.clientHeight === 0 && tries > 0) { setTimeout(() => toHit(tries - 1), 100); return; }
  box.scrollTop = Math.max(0, hit.offsetTop - box.clientHeight / 3);
}
new MutationObserver(() => toHit(20)).observe(element, {childList: true, subtree: true});
toHit(20);  // the viewer mounts lazily (inside a closed accordion), possibly with its text already there
"""

CSS = """
.gradio-container { max-width: 1360px !important; width: 100% !important; margin: 0 auto; }
body, .gradio-container { font-feature-settings: "palt" 0; }
#topbar { align-items: center; border-bottom: 1px solid var(--border-color-primary); padding-bottom: 6px; }
.brand h1 { font-size: 1.45rem; font-weight: 650; margin: 0; letter-spacing: .02em; }
.brand p { margin: 2px 0 0; color: var(--body-text-color-subdued); font-size: .9rem; }
#lang { flex-grow: 0 !important; min-width: 190px !important; }

/* conversation */
.chat { height: calc(100vh - 430px); min-height: 320px; overflow-y: auto; padding: 14px 10px; display: flex; flex-direction: column;
        gap: 12px; background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary);
        border-radius: 12px; }
.chat-empty { margin: auto; max-width: 30em; text-align: center; color: var(--body-text-color-subdued); line-height: 1.8; }
.msg { display: flex; }
.msg.user { justify-content: flex-end; }
.msg .bubble { max-width: 86%; padding: 10px 14px; border-radius: 14px; line-height: 1.8; font-size: 15px;
               letter-spacing: .01em; word-break: break-word; }
.msg.user .bubble { background: var(--color-accent); color: white; border-bottom-right-radius: 4px; }
.msg.bot .bubble { background: var(--background-fill-primary); border: 1px solid var(--border-color-primary);
                   border-bottom-left-radius: 4px; box-shadow: 0 1px 2px rgba(15, 23, 42, .05); }
.msg.bot .bubble p { margin: 0 0 .5em; }
.msg.bot .bubble p:last-of-type { margin-bottom: 0; }
.msg.refused .bubble { background: #fffbeb; border-color: #fcd34d; color: #78350f; }
.msg.error .bubble { background: #fef2f2; border-color: #fca5a5; color: #7f1d1d; }
.badge { display: inline-block; font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 999px; margin-bottom: 4px; }
.badge.refusal { background: #fde68a; color: #78350f; }
.badge.err { background: #fecaca; color: #7f1d1d; }
.status { color: var(--body-text-color-subdued); }
.dots::after { content: "···"; display: inline-block; width: 1.6em; animation: blink 1.2s infinite; }
.caret { display: inline-block; width: 7px; height: 1em; background: var(--color-accent); vertical-align: -2px;
         margin-left: 2px; animation: blink 1s steps(2) infinite; }
@keyframes blink { 50% { opacity: .2; } }
.meta { margin-top: 6px; font-size: 12px; color: var(--body-text-color-subdued); }
.note { margin-top: 6px; font-size: 12px; color: #b45309; }

/* citation chips */
.cite { display: inline-flex; align-items: center; justify-content: center; min-width: 1.35em; height: 1.35em;
        padding: 0 .3em; margin: 0 1px; border-radius: 999px; border: none; font-size: 12px; font-weight: 600;
        line-height: 1; vertical-align: super; background: #dbeafe; color: #1d4ed8; cursor: pointer; }
.cite:hover, .cite.active { background: #2563eb; color: white; }
.cite.pending { background: #e2e8f0; color: #475569; cursor: default; }
.cite.static { vertical-align: middle; cursor: default; margin-right: 6px; }

/* source viewer */
.sources { position: relative; max-height: 60vh; overflow-y: auto; display: flex; flex-direction: column; gap: 10px; padding-right: 4px; }
.src-for { font-size: 13px; color: var(--body-text-color-subdued); }
.src-q { color: var(--body-text-color); font-weight: 600; font-size: 14px; margin-top: 2px; }
.src-section { font-size: 13px; font-weight: 600; color: var(--body-text-color-subdued); }
.src-section.related { color: #b45309; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
            background: var(--background-fill-primary); transition: box-shadow .2s, border-color .2s; }
.src-card.focused { border-color: #2563eb; box-shadow: 0 0 0 3px rgba(37, 99, 235, .15); }
.src-head { display: flex; align-items: center; }
.src-title { font-weight: 600; font-size: 14px; }
.src-meta { display: flex; flex-wrap: wrap; gap: 4px 10px; font-size: 12px; color: var(--body-text-color-subdued);
            margin: 4px 0 6px; }
.src-text { font-size: 14px; line-height: 1.8; white-space: pre-wrap; color: var(--body-text-color); }
.src-table { border-collapse: collapse; margin: 4px 0; white-space: normal; font-size: 13px; }
.src-table th, .src-table td { border: 1px solid var(--border-color-primary); padding: 2px 6px; }
.src-table th { background: var(--background-fill-secondary); } .src-table tr.hit td { background: #fef08a; }
mark { background: #fef08a; color: inherit; padding: 1px 0; border-radius: 2px; }
.open-doc { margin-top: 6px; border: none; background: none; color: #2563eb; cursor: pointer; font-size: 13px; padding: 0; }
.open-doc:hover { text-decoration: underline; }
details.uncited summary { cursor: pointer; font-size: 13px; color: var(--body-text-color-subdued); margin: 4px 0; }
details.uncited .src-card { margin-top: 8px; opacity: .9; }
.placeholder { color: var(--body-text-color-subdued); padding: 24px 8px; text-align: center; line-height: 1.8; }

/* full document */
.doc-head { margin-bottom: 6px; }
.doc-title { font-weight: 650; font-size: 15px; }
.doc-meta { font-size: 12px; color: var(--body-text-color-subdued); }
.doc-body { position: relative; max-height: 52vh; overflow-y: auto; white-space: pre-wrap; line-height: 1.85;
            font-size: 14px; padding: 10px 12px; border: 1px solid var(--border-color-primary); border-radius: 8px;
            background: var(--background-fill-secondary); }
.hl-passage { background: #eff6ff; }

/* documents and settings */
table.docs { width: 100%; border-collapse: collapse; font-size: 14px; }
table.docs th { text-align: left; font-weight: 600; color: var(--body-text-color-subdued); font-size: 13px;
                border-bottom: 1px solid var(--border-color-primary); padding: 6px 8px; }
table.docs td { border-bottom: 1px solid var(--border-color-primary); padding: 8px; vertical-align: top; }
table.docs td.num { text-align: right; }
.doc-name { font-weight: 550; }
.doc-id { font-size: 12px; color: var(--body-text-color-subdued); font-family: var(--font-mono); }
.type { font-size: 11px; padding: 1px 6px; border-radius: 4px; background: var(--background-fill-secondary);
        border: 1px solid var(--border-color-primary); }
ul.results { list-style: none; padding: 0; margin: 4px 0; font-size: 14px; }
ul.results li { padding: 6px 10px; border-radius: 8px; margin-bottom: 6px; }
ul.results li.ok { background: #f0fdf4; color: #14532d; }
ul.results li.err { background: #fef2f2; color: #7f1d1d; }
ul.results .st { font-weight: 600; margin: 0 6px; }
ul.results .why { display: block; font-size: 13px; opacity: .9; }
.settings table { border-collapse: collapse; font-size: 14px; }
.settings th { text-align: left; font-weight: 500; color: var(--body-text-color-subdued); padding: 6px 24px 6px 0; }
.settings td { padding: 6px 0; font-family: var(--font-mono); font-size: 13px; word-break: break-all; }
#question { border: 1px solid var(--border-color-primary); border-radius: 12px; background: var(--background-fill-primary);
            padding: 4px 6px 4px 4px; }
#question:focus-within { border-color: var(--color-accent); box-shadow: 0 0 0 3px rgba(37, 99, 235, .12); }
#question button { background: var(--button-primary-background-fill); color: var(--button-primary-text-color);
                   border-radius: 8px; padding: 6px 16px; font-weight: 600; }
#question button:hover { background: var(--button-primary-background-fill-hover); }
.examples-label { font-size: 13px; color: var(--body-text-color-subdued); margin-top: 4px; }
.example-btn { font-size: 13px !important; text-align: left !important; }
.footer { text-align: center; font-size: 12px; color: var(--body-text-color-subdued); margin-top: 8px; }
"""
