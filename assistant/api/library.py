"""The Engines of the knowledge bases the API serves: the one `assistant serve` opened, and the others
opened on first use (sharing its embedding model when theirs is the same)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from ..config import Settings, load_settings
from ..engine import Engine
from ..index import open_index, wipe_index
from ..kb import DEFAULT_KB, KnowledgeBase, create_kb, find_kb, list_kbs, remove_kb, root_of


def kb_settings(base: Settings, root: Path, kb: KnowledgeBase) -> Settings:
    """`base` pointed at knowledge base `kb`, or the knowledge base's own `assistant.toml` when it has one
    (with the server's store and answer backend)."""
    own = kb.path / "assistant.toml"
    if kb.name != DEFAULT_KB and own.is_file():
        return load_settings(own, index=root, kb=kb.name, store_url=base.store_url, llm={"backend": base.llm.backend})
    settings = base.model_copy(deep=True, update={"kb": kb.name, "index": None})
    settings.store.path = kb.path
    return settings


class Library:
    """Knowledge base name -> Engine. Thread-safe; Engines stay open until `close`."""

    def __init__(self, engine: Engine) -> None:
        self.served = engine.settings.kb or DEFAULT_KB
        self.root = root_of(engine.settings.store.path, engine.settings.kb)
        self.base = engine.settings
        self._engines: dict[str, Engine] = {self.served: engine}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        names = [k.name for k in list_kbs(self.root)]
        return names if self.served in names else [self.served, *names]

    def engine(self, name: str) -> Engine:
        """The Engine of knowledge base `name`; UnknownKnowledgeBaseError when there is none."""
        with self._lock:
            if name in self._engines:
                return self._engines[name]
            kb = find_kb(self.root, name)
            settings = kb_settings(self.base, self.root, kb)
            main = self._engines[self.served]
            shared = main.index.embedder if settings.embedding == main.settings.embedding else None
            engine = Engine(settings, index=open_index(settings, create=True, embedder=shared))
            self._engines[name] = engine
            return engine

    def create(self, name: str) -> KnowledgeBase:
        with self._lock:
            return create_kb(self.root, name)

    def remove(self, name: str) -> KnowledgeBase:
        """Close, drop (server mode: the collection on the server) and delete a knowledge base."""
        with self._lock:
            kb = find_kb(self.root, name)
            if name == self.served:
                from ..kb import KnowledgeBaseError

                raise KnowledgeBaseError(f"'{name}' is the knowledge base this server was started on.")
            engine = self._engines.pop(name, None)
            if engine is not None:
                engine.close()
            if self.base.store.mode == "server":
                wipe_index(kb_settings(self.base, self.root, kb))
            removed = remove_kb(self.root, name)
            shutil.rmtree(Path(self.base.ui.upload_dir) / "kb" / name, ignore_errors=True)  # its API uploads
            return removed

    def close(self) -> None:
        with self._lock:
            for name, engine in list(self._engines.items()):
                if name != self.served:  # the served one belongs to `assistant serve`
                    engine.close()
            self._engines = {k: v for k, v in self._engines.items() if k == self.served}
