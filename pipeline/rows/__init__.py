"""Stage 2: building the tables' rows from what was read, and the derived tables."""
