"""Bias & privacy: per-class gaps, error-rate and membership-inference demos (analysis), their
charts, and the page's cited text (content)."""
