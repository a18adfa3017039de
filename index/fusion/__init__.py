"""Fusion: one score per passage from both sides, and the evidence about each."""
