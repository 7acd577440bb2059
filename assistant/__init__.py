"""Policy assistant: offline question answering over policy documents with verified citations."""

__version__ = "0.1.0"
