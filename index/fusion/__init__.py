"""Fusion: one score per passage, lexical and semantic combined, and the evidence about each."""
