"""Quality checks of the real dataset in raw/: numbers match their quotes, descriptions are ours."""

from __future__ import annotations

import re

import pytest

from pipeline.build import assemble
from pipeline.metadata import load_metadata
from tests.conftest import ROOT

TABLES = assemble(ROOT / "raw", load_metadata(ROOT / "datapackage.json"))
TEXT_OF = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "raw" / "texts").glob("*.txt")}
TEXTS = list(TEXT_OF.values())
# Every span's words, read from the source text where its quote is withheld from the published rows.
QUOTES = {r["span_id"]: r["quote"] or TEXT_OF[r["source_id"]][r["start"]:r["end"]] for r in TABLES.rows["spans"]}

WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "twenty": 20, "hundred": 100, "a hundred": 100, "thousand": 1000, "a thousand": 1000,
    "half a million": 500_000, "a million": 1_000_000,
}


def numbers_in(quote: str) -> set[int]:
    """Every number a quote writes, in digits (1,500 / 20,000) or in the words above."""
    found = {int(m.replace(",", "")) for m in re.findall(r"\d[\d,]*", quote)}
    lower = quote.lower()
    found |= {n for w, n in WORDS.items() if re.search(rf"\b{w}\b", lower)}
    return found


COUNTED = [
    pytest.param(table, row, id=f"{table}:{row.get('casualty_id') or row['event_id'] + '/' + row['actor_id'] + '/' + row['span_id']}")
    for table in ("casualties", "event_actors")
    for row in TABLES.rows[table]
    if row.get("count_min") is not None or row.get("count_max") is not None
]


@pytest.mark.parametrize("table,row", COUNTED)
def test_every_count_is_a_number_of_its_quote(table, row):
    if row.get("qualifier") == "unspecified_many":
        pytest.skip("magnitude in words (tens of thousands): bounds are the annotator's reading")
    stated = numbers_in(QUOTES[row["span_id"]])
    for col in ("count_min", "count_max"):
        if row.get(col) is not None:
            assert row[col] in stated, f"{col} {row[col]} is not written in the quote {QUOTES[row['span_id']]!r}"


@pytest.mark.parametrize("table,id_col", [("events", "event_id"), ("actors", "actor_id")])
def test_descriptions_are_one_sentence_in_our_own_words(table, id_col):
    for row in TABLES.rows[table]:
        desc = row.get("description")
        if not desc:
            continue
        assert desc.endswith("."), f"{row[id_col]}: description should be one full sentence"
        assert desc.count(". ") == 0 or re.search(r"\b[A-Z]\. ", desc), f"{row[id_col]}: more than one sentence"
        assert not any(desc[:-1] in text for text in TEXTS), f"{row[id_col]}: description copied from a source"


def test_no_wikidata_ids_from_memory():
    # None have been checked offline yet; fill them only with a checked source.
    assert all(not r.get("wikidata_id") for t in ("events", "actors") for r in TABLES.rows[t])


def test_novocherkassk_death_claims_stay_side_by_side():
    killed = {(r["count_min"], r["count_max"], r["qualifier"], r["claimant"]) for r in TABLES.rows["casualties"]
              if r["event_id"] == "novocherkassk-1962" and r["category"] == "killed"}
    assert (26, 26, "exact", "official figures") in killed
    assert (80, None, "more_than", "some estimates") in killed
