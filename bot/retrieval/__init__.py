"""Hybrid search: embedder, lexical, character n-grams, head, fusion and its fit, tuning."""
