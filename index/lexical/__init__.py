"""Lexical ranking: rank-bm25 scores from cached postings, section titles, coverage."""
