"""Turns annotated spans of source articles into a validated, linked event dataset."""

__version__ = "0.1.0"

from pipeline.load import load  # the public loading API: pipeline.load(PATH)

__all__ = ["load"]
