"""Semantic ranking: the embedding model, passage vectors and their cosines."""
