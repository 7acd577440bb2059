"""UI text in Chinese and English, the example questions, and picking a language from the browser."""

from __future__ import annotations

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

# key -> (Chinese, English). Placeholders use str.format names.
TEXT: dict[str, tuple[str, str]] = {
    "title": ("政策文件问答助手", "Policy Document Assistant"),
    "subtitle": (
        "离线运行 · 每个回答都标注可核验的出处 [n]，点击编号即可查看原文",
        "Runs offline · every answer cites its sources as [n] — click a number to see the passage",
    ),
    "language": ("界面语言", "Language"),
    "tab_chat": ("问答", "Chat"),
    "tab_docs": ("文档库", "Documents"),
    "tab_settings": ("系统信息", "Settings"),
    "question": ("问题", "Question"),
    "question_ph": ("请输入关于政策文件的问题，按回车发送", "Ask about the policy documents and press Enter"),
    "send": ("发送", "Ask"),
    "new_chat": ("新对话", "New conversation"),
    "examples": ("示例问题", "Example questions"),
    "filters": ("检索范围（可选）", "Filters (optional)"),
    "filter_docs": ("限定文件", "Documents"),
    "filter_issuers": ("发文机关", "Issuing body"),
    "date_from": ("成文日期不早于", "Dated from"),
    "date_to": ("成文日期不晚于", "Dated until"),
    "date_ph": ("YYYY-MM-DD", "YYYY-MM-DD"),
    "sources": ("出处", "Sources"),
    "full_text": ("原文全文", "Full document"),
    "you": ("提问", "You"),
    "assistant": ("助手", "Assistant"),
    "empty_chat": (
        "可以问：某项政策的补贴标准、申报条件、目标任务、文号和施行日期等。回答只依据已收录的文件。",
        "Ask about subsidies, eligibility, targets, document numbers or effective dates. "
        "Answers rely only on the indexed documents.",
    ),
    "retrieving": ("正在检索相关条款……", "Searching the documents…"),
    "generating": ("已找到 {n} 段相关内容，正在生成回答……", "Found {n} relevant passages, writing the answer…"),
    "timings": ("检索 {r:.2f}s · 首字 {f:.2f}s · 总计 {t:.2f}s · {backend}", "retrieval {r:.2f}s · first token {f:.2f}s · total {t:.2f}s · {backend}"),
    "refused_badge": ("未找到依据", "Not in the documents"),
    "error_badge": ("出错了", "Error"),
    "warning": ("提示", "Warning"),
    "info": ("完成", "Done"),
    "no_sources": ("提问后，回答引用的原文会显示在这里。", "The passages an answer cites appear here."),
    "sources_for": ("第 {turn} 问的出处", "Sources of question {turn}"),
    "retrieved": ("检索到的段落（回答生成中）", "Retrieved passages (answer in progress)"),
    "related": ("相关段落（不足以作答，仅供参考）", "Related passages (not enough to answer; for reference)"),
    "retrieved_done": ("检索到的段落", "Retrieved passages"),
    "no_citation": (
        "此回答没有可核验的出处，请对照右侧检索到的段落核实。",
        "This answer has no verified citation; check it against the retrieved passages.",
    ),
    "uncited": ("其他检索到的段落", "Other retrieved passages"),
    "open_in_doc": ("在全文中定位", "Show in full document"),
    "page": ("第 {page} 页", "p. {page}"),
    "doc_number": ("文号", "No."),
    "doc_empty": ("点击出处卡片上的“在全文中定位”查看整篇文件。", "Use “Show in full document” on a source to read it in context."),
    "doc_missing": ("文件 {doc_id} 已不在索引中。", "Document {doc_id} is no longer in the index."),
    "doc_truncated": ("（篇幅较长，仅显示引用位置附近的内容）", "(long document: showing the part around the passage)"),
    "removed_citations": ("已删除无法核验的引用：{items}", "Removed citations that could not be verified: {items}"),
    "docs_title": ("已收录的文件", "Indexed documents"),
    "col_title": ("标题", "Title"),
    "col_type": ("类型", "Type"),
    "col_date": ("日期", "Date"),
    "col_number": ("文号", "Doc. No."),
    "col_chunks": ("分段", "Chunks"),
    "col_status": ("状态", "Status"),
    "status_pending": ("未完成", "incomplete"),
    "no_docs": ("索引中还没有文件。", "No documents are indexed yet."),
    "upload": ("上传文件（PDF、DOCX、HTML、MD、TXT）", "Upload files (PDF, DOCX, HTML, MD, TXT)"),
    "upload_button": ("加入索引", "Add to index"),
    "upload_hint": ("单个文件不超过 {mb} MB。", "Up to {mb} MB per file."),
    "ingesting": ("正在索引 {name}", "Indexing {name}"),
    "checking": ("正在检查上传的文件", "Checking the uploaded files"),
    "no_files": ("请先选择要上传的文件。", "Choose files to upload first."),
    "result_added": ("已加入", "added"),
    "result_updated": ("已更新", "updated"),
    "result_unchanged": ("内容未变", "unchanged"),
    "result_failed": ("失败", "failed"),
    "remove_label": ("从索引中删除文件", "Remove a document from the index"),
    "remove_button": ("删除", "Remove"),
    "removed": ("已删除《{title}》。", "Removed “{title}”."),
    "choose_doc": ("请先选择要删除的文件。", "Choose a document to remove first."),
    "unknown_doc": ("索引中没有文件 {doc_id}。", "No document {doc_id} in the index."),
    "empty_question": ("请输入问题。", "Please enter a question."),
    "bad_date": ("日期格式应为 YYYY-MM-DD：{value}", "Dates must look like YYYY-MM-DD: {value}"),
    "bad_range": ("起始日期晚于截止日期。", "The start date is after the end date."),
    "internal_error": (
        "内部错误，请稍后重试；详细信息已写入服务器日志。",
        "Internal error; please try again. Details are in the server log.",
    ),
    "answer_failed": ("回答生成失败：{error}", "The answer could not be generated: {error}"),
    "settings_title": ("运行配置（只读）", "Configuration (read-only)"),
    "set_embedding": ("向量模型", "Embedding model"),
    "set_backend": ("回答生成方式", "Answer backend"),
    "set_model": ("语言模型", "Language model"),
    "set_docs": ("文件数", "Documents"),
    "set_chunks": ("分段数", "Chunks"),
    "set_vectors": ("向量数", "Vectors"),
    "set_collection": ("集合", "Collection"),
    "set_store": ("索引位置", "Index location"),
    "set_last": ("最近索引时间", "Last ingest"),
    "set_uploads": ("上传目录", "Upload folder"),
    "set_topk": ("每问检索段落数", "Passages per question"),
    "extractive_model": ("无（直接摘录原文句子）", "none (quotes source sentences)"),
    "footer": (
        "示例文件为项目自拟的演示材料，并非真实政策文件。",
        "The sample documents are illustrative texts written for this project, not official policy.",
    ),
    # Upload checks.
    "up_type": ("不支持的文件类型“{suffix}”（支持 {allowed}）", "unsupported file type “{suffix}” (allowed: {allowed})"),
    "up_size": ("文件过大（{size:.1f} MB，上限 {mb} MB）", "file too large ({size:.1f} MB; limit {mb} MB)"),
    "up_empty": ("空文件", "empty file"),
    "up_content": ("内容与扩展名不符：不是有效的 {kind} 文件", "content does not match the extension: not a valid {kind} file"),
    "up_binary": ("看起来是二进制文件，不是文本", "looks like a binary file, not text"),
    "up_missing": ("上传的文件已不存在，请重新上传", "the uploaded file is gone; please upload it again"),
}

# Questions the bundled sample corpus answers (checked against corpus/ with the extractive backend).
EXAMPLES: list[str] = [
    "到2027年，广东省基于开源鸿蒙的行业终端设备累计出货量目标是多少？",
    "深圳市单个主体每年累计使用算力券最高多少？",
    "By 2027, what software business revenue target does Guangdong's action plan set?",
    "What is the deadline for each prefecture-level city to submit its implementation plan?",
]


def t(key: str, lang: str, **values: object) -> str:
    """The UI text for `key` in `lang` ('zh' or 'en'), with `values` filled in."""
    zh, en = TEXT[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def pick_language(accept_language: str | None) -> str:
    """'zh' or 'en' from an HTTP Accept-Language header, by the first language the browser names."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE
