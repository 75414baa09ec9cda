"""LLM helpers: token timing of streamed responses (stream), RAG attribution (rag), timing analysis."""

from .stream import stream

__all__ = ["stream"]
