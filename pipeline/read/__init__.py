"""Stage 1: reading raw/ (YAML, sources, texts) and anchoring spans in their texts."""
