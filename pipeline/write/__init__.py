"""Stage 4: writers, one per output format (CSV and descriptor, codebook, Parquet and SQLite, linked data)."""
