"""Annotations from annotation tools (W3C/Hypothesis/Recogito, Label Studio, INCEpTION, brat) into raw/, and back out."""
