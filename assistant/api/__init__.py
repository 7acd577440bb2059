"""The HTTP API of `assistant serve` (/v1): OpenAI-compatible chat, retrieval, documents, knowledge bases.

`build_api` makes a FastAPI app of its own (own OpenAPI docs at /docs, own error handlers);
`api_route` hands its paths to it from inside the Gradio app, so both share one server and port.
"""

from .routes import api_route, build_api

__all__ = ["api_route", "build_api"]
