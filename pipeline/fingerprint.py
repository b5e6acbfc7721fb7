"""What shapes the build's output besides its inputs: the metadata and the code, as one hash for cache keys."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pipeline.metadata import Metadata


def environment_key(meta: Metadata) -> str:
    """Hash of everything besides the inputs that shapes a partition: schemas and our code."""
    # Keys the build computes into the descriptor (temporalCoverage) are its output, not its input:
    # with them, the key would change between the start and the end of one build.
    from pipeline.rows.summary import COMPUTED_DESCRIPTOR_KEYS

    given = {k: v for k, v in meta.descriptor.items() if k not in COMPUTED_DESCRIPTOR_KEYS}
    h = hashlib.sha256(json.dumps(given, sort_keys=True).encode())
    for schema in meta.tables.values():
        h.update(json.dumps(schema.descriptor, sort_keys=True).encode())
    code_dir = Path(__file__).resolve().parent
    for py in sorted(code_dir.rglob("*.py")):
        h.update(py.relative_to(code_dir).as_posix().encode() + b"\0" + py.read_bytes())
    return h.hexdigest()
