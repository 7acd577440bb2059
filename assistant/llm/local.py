"""Backend running a GGUF model in-process with llama.cpp (llama-cpp-python).

The model is loaded lazily, once, on the first `generate` (or an explicit `load`), so
building an engine stays cheap. llama.cpp contexts are not thread-safe: one lock guards
loading and every generation, so concurrent callers are served one after another.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import LLMSettings
from ..errors import LLMError, ModelUnavailableError
from .base import GenerationRequest
from .models import BUNDLED_MODELS, ensure_model

if TYPE_CHECKING:
    from llama_cpp import Llama

LLAMA_CPP_PIN = "llama-cpp-python==0.3.36"


class LocalLlamaBackend:
    """Streams chat completions from a local GGUF model through llama.cpp."""

    def __init__(
        self,
        model: str = "qwen2.5-coder-1.5b",
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_batch: int = 512,
        n_ubatch: int = 512,
        flash_attn: bool = False,
        use_mmap: bool = True,
        cache_dir: Path | None = None,
        seed: int = 0,
    ) -> None:
        self.model = model
        self.name = f"local:{model if model in BUNDLED_MODELS else Path(model).stem}"
        self.n_ctx = n_ctx
        self.n_threads = n_threads or _usable_cpus()
        self.n_batch = n_batch
        self.n_ubatch = min(n_ubatch, n_batch)
        self.flash_attn = flash_attn
        self.use_mmap = use_mmap
        self.cache_dir = cache_dir
        self.seed = seed
        self.model_path: Path | None = None
        self._llm: Llama | None = None
        self._lock = threading.Lock()
        self._owner: int | None = None  # thread id inside generate(), to refuse re-entry instead of deadlocking

    @classmethod
    def from_settings(cls, settings: LLMSettings, cache_dir: Path | None = None) -> LocalLlamaBackend:
        """Build from the `llm` settings section; nothing is loaded yet."""
        return cls(settings.local_model, n_ctx=settings.n_ctx, n_threads=settings.n_threads, cache_dir=cache_dir)

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._llm is not None

    def load(self) -> None:
        """Assemble (if needed) and load the model now instead of on the first question."""
        self._check_reentry()
        with self._lock:
            self._load_locked()

    def generate(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the answer's text pieces as llama.cpp produces them.

        Closing the iterator stops generation after the current token and frees the model
        for the next caller.
        """
        self._check_reentry()
        with self._lock:
            self._owner = threading.get_ident()
            try:
                llm = self._load_locked()
                try:
                    stream: Any = llm.create_chat_completion(
                        messages=request.messages,  # type: ignore[arg-type]
                        stream=True,
                        max_tokens=request.max_tokens,
                        temperature=request.temperature,
                        stop=request.stop or [],
                        seed=self.seed,
                    )
                except ValueError as exc:
                    raise LLMError(self._failure_message(exc)) from exc
                try:
                    while True:
                        try:
                            chunk = next(stream)
                        except StopIteration:
                            break
                        except (ValueError, RuntimeError) as exc:
                            raise LLMError(self._failure_message(exc)) from exc
                        piece = chunk["choices"][0]["delta"].get("content")
                        if piece:
                            yield piece
                finally:
                    stream.close()
            finally:
                self._owner = None

    def option_scores(self, request: GenerationRequest, options: list[str]) -> list[float]:
        """Log-probabilities (normalised over `options`) that the answer starts with each option, e.g. "A".."D"
        or "正确"/"错误": one forward pass over the prompt, reading the model's own next-token distribution.

        Reuses the cached prompt prefix like `generate`. Each option is scored by its first token.
        """
        self._check_reentry()
        with self._lock:
            llm = self._load_locked()
            ids = [llm.tokenize(o.encode("utf-8"), add_bos=False, special=False)[:1] for o in options]
            if any(not i for i in ids) or len({i[0] for i in ids}) != len(ids):
                raise LLMError(f"Options {options} do not start with distinct tokens; cannot score them.")
            try:
                llm.create_chat_completion(
                    messages=request.messages,  # type: ignore[arg-type]
                    max_tokens=1, temperature=0.0, seed=self.seed,
                )  # fmt: skip
            except ValueError as exc:
                raise LLMError(self._failure_message(exc)) from exc
            # The last decode was the prompt's final position (the sampled token is not decoded with max_tokens=1),
            # so the context's logits are the distribution of the answer's first token.
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
            chosen = np.array([float(logits[i[0]]) for i in ids])
            chosen -= chosen.max()
            return [float(x) for x in chosen - np.log(np.exp(chosen).sum())]

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in `text` (loads the model)."""
        self._check_reentry()
        with self._lock:
            llm = self._load_locked()
            return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def close(self) -> None:
        """Free the model; the next `generate` loads it again."""
        self._check_reentry()
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None

    def _check_reentry(self) -> None:
        if self._owner == threading.get_ident():
            raise LLMError(
                "The local model is still generating in this thread: finish or close the previous "
                "generate() iterator before starting another."
            )

    def _load_locked(self) -> Llama:
        if self._llm is not None:
            return self._llm
        # OpenMP reads this once, when its runtime loads (here, with llama_cpp, unless something
        # loaded it earlier). Its default busy-waiting made generation 2-6x slower whenever another
        # process competed for the 2 cores (measured in bench/llm.py); a user's own value wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelUnavailableError(
                f"The local LLM backend needs llama-cpp-python: pip install '{LLAMA_CPP_PIN}' "
                "(builds from source, ~11 minutes on 2 cores), or set llm.backend to 'openai' or 'extractive'."
            ) from exc
        path = ensure_model(self.model, self.cache_dir)
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                n_batch=self.n_batch,
                n_ubatch=self.n_ubatch,
                flash_attn=self.flash_attn,
                use_mmap=self.use_mmap,
                seed=self.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelUnavailableError(f"llama.cpp could not load {path}: {exc}") from exc
        self.model_path = path
        return self._llm

    def _failure_message(self, exc: Exception) -> str:
        text = str(exc)
        if "context window" in text:
            return (
                f"The prompt does not fit the local model's context ({text}). "
                "Give it less evidence (llm.context_tokens) or raise llm.n_ctx."
            )
        return f"The local model failed while generating: {text}"


def _usable_cpus() -> int:
    # The CPUs this process may run on (container limits, taskset), not all the host has.
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
