"""Stage 3: checking rows against the Table Schemas, and the linked data against SHACL."""
