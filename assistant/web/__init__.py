"""The web UI (Gradio): `assistant serve`.

Import `assistant.web.app` for `build_app`/`launch`; this package itself imports nothing heavy,
so the CLI can register `serve` without loading Gradio.
"""
