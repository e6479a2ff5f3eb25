"""Shallow vs deep: comparing two runs (analysis), their charts, the scoreboard, published
reference results, and what a comparison can conclude (verdict)."""
