"""The few exception types the assistant raises; each message says what happened and what to do next.

Front ends turn these into a CLI exit message or a `gr.Error`; nothing below them prints.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: a problem the user can act on. The message is shown as is."""


class ConfigError(AssistantError):
    """Settings could not be read or are inconsistent."""


class DocumentError(AssistantError):
    """One file could not be loaded; ingestion reports it and goes on with the others."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self) -> tuple[type[DocumentError], tuple[str, str]]:
        # Raised in a parser process, it reaches the ingest process pickled: rebuild it from both fields.
        return (DocumentError, (self.path, self.reason))


class IndexMissingError(AssistantError):
    """No index at the configured location, or it holds no documents."""


class IndexCorruptError(AssistantError):
    """The index directory exists but cannot be opened as written."""


class StoreUnavailableError(AssistantError):
    """A Chroma server was configured but cannot be reached."""


class LLMError(AssistantError):
    """The language-model backend failed (unreachable, timed out, bad response)."""


class ModelUnavailableError(AssistantError):
    """A configured model cannot be found or loaded offline."""


class FilterError(AssistantError, ValueError):
    """A malformed retrieval filter. `reason` ('syntax', 'key', 'date', 'range') and `value` let a front end
    word the message in its own language."""

    def __init__(self, message: str, reason: str, value: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.value = value


class DocumentNotFoundError(AssistantError):
    """A document id that the index does not hold."""
