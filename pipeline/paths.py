"""Default locations of the project's inputs and outputs; nothing else lives here."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = ROOT / "raw"
SCHEMAS_DIR = ROOT / "schemas"
DIST_DIR = ROOT / "dist"
DATAPACKAGE_PATH = ROOT / "datapackage.json"
# Rows of annotation files already built, by content hash (see partition.py); never published.
CACHE_DIR = ROOT / ".cache"

SOURCES_FILENAME = "sources.yaml"
ANNOTATIONS_DIRNAME = "annotations"
TEXTS_DIRNAME = "texts"
RELEASES_DIR = ROOT / "releases"
CHANGELOG_PATH = ROOT / "CHANGELOG.md"
CITATION_PATH = ROOT / "CITATION.cff"
