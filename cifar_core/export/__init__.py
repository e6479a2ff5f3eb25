"""Export: a saved run as a model card (Markdown/HTML) and as a notebook or script to take home."""
