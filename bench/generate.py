"""Writes a synthetic corpus in our own raw/ format, for benchmarks: same seed, same bytes.

Input: a number of spans and sources and a seed. Output: `<out>/raw/` with `sources.yaml`
(correct SHA-256 of every text), `texts/*.txt` and `annotations/*.yaml` (one file per source
plus `entities.yaml`), valid for `pipeline build`. The mix of labels and claims roughly follows
the real corpus: event mentions with EDTF dates and places, event_actors, casualty claims with
every qualifier (some sources disagreeing on the same figure), demands; quotes carry non-ASCII
letters, curly quotes and emoji, and some sentences occur twice in a text so that their spans
need a `prefix`. Categories come from schemas/, so the generator follows the schemas.

    python bench/generate.py --spans 10000 --out /tmp/corpus
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.metadata import load_metadata

SPANS_PER_SOURCE = 40
PLACES = ["Novocherkassk", "Vorkuta", "Norilsk", "Kengir", "East Berlin", "Poznań", "Budapest", "Gdańsk",
          "Plzeň", "Brașov", "Karaganda", "Donetsk", "Łódź", "Temirtau", "Kuzbass", "Ústí nad Labem"]
CYRILLIC = ["Новочеркасск", "Воркута", "Норильск", "Кенгир", "шахтёры", "забастовка"]
NAMES = ["workers", "miners", "prisoners", "students", "strike committee", "soldiers", "militia", "camp guards"]
CLAIMANTS = ["the article", "official figures", "historians", "eyewitnesses", "the strike committee", "émigré press"]
DEMAND_TEXTS = ["higher wages", "lower food prices", "release of the prisoners", "free elections",
                "an end to the norm increases", "better housing", "that Moscow send a commission",
                "the removal of the barbed wire", "the right to sell coal abroad"]
FLAVOUR = ["“Ünïon” café 😀", "the ‘Krasny’ works", "Stalinstadt – now Eisenhüttenstadt", "Bahnhofstraße",
           "Zakłady Cegielskiego", "Csepel Művek", "шахта № 29", "the naïve façade", "señor Núñez’s report"]


def _q(value) -> str:
    """A YAML scalar: JSON strings are valid YAML double-quoted scalars; ints stay plain."""
    return str(value) if isinstance(value, int) else json.dumps(value, ensure_ascii=False)


def _explicit_id(column: str, span_id: str, category: str) -> list[str]:
    # The default claim id <span_id>-<category> is no slug when the category has an underscore;
    # annotators then write the id themselves, and so do we.
    return [f"        {column}: {span_id}-{category.replace('_', '-')}"] if "_" in category else []


def _enums(meta) -> dict[str, list[str]]:
    return {
        "label": meta["spans"].enum("label"),
        "event_type": meta["events"].enum("event_type"),
        "country": meta["events"].enum("country"),
        "actor_type": meta["actors"].enum("actor_type"),
        "role": meta["event_actors"].enum("role"),
        "category": meta["casualties"].enum("category"),
        "qualifier": meta["casualties"].enum("qualifier"),
        "demand_category": meta["demands"].enum("category"),
        "outcome": meta["demand_outcomes"].enum("outcome"),
    }


def _edtf(rng: random.Random, year: int) -> str:
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    form = rng.randrange(5)
    if form == 0:
        return f"{year}"
    if form == 1:
        return f"{year}-{month:02d}"
    if form == 2:
        return f"{year}-{month:02d}~"
    if form == 3:
        return f"{year}-{month:02d}-{day:02d}/{year}-{month:02d}-{min(28, day + 2):02d}"
    return f"{year}-{month:02d}-{day:02d}"


def entities(n_events: int, n_actors: int, enums, rng: random.Random) -> tuple[list[dict], list[dict]]:
    events = []
    for i in range(n_events):
        year = rng.randint(1950, 1990)
        place = rng.choice(PLACES)
        events.append({
            "event_id": f"ev-{i:05d}", "name": f"Revolt {i} at {place} ({rng.choice(CYRILLIC)})",
            "event_type": rng.choice(enums["event_type"]), "start_date": f"{year}-{rng.randint(1, 12):02d}",
            "place": place, "country": rng.choice(enums["country"]),
            "description": f"A synthetic event for benchmarks: {rng.choice(FLAVOUR)}.", "_year": year,
        })
    actors = [{
        "actor_id": f"ac-{i:05d}", "name": f"{rng.choice(NAMES).capitalize()} of {rng.choice(PLACES)} #{i}",
        "actor_type": rng.choice(enums["actor_type"]),
    } for i in range(n_actors)]
    return events, actors


def _entities_yaml(events: list[dict], actors: list[dict]) -> str:
    out = ["# Synthetic events and actors shared by every source of the benchmark corpus.", "events:"]
    for ev in events:
        first = True
        for key, value in ev.items():
            if key.startswith("_"):
                continue
            out.append(f"  {'- ' if first else '  '}{key}: {_q(value)}")
            first = False
    out.append("actors:")
    for ac in actors:
        first = True
        for key, value in ac.items():
            out.append(f"  {'- ' if first else '  '}{key}: {_q(value)}")
            first = False
    return "\n".join(out) + "\n"


def source_files(sid: str, first_span: int, n_spans: int, events, actors, enums, rng: random.Random) -> tuple[str, str]:
    """One source: its text and its annotation file, with `n_spans` spans numbered from first_span."""
    sentences: list[str] = []
    spans: list[list[str]] = []
    repeated = f"The strike at {rng.choice(PLACES)} spread."
    for k in range(n_spans):
        g = first_span + k
        span_id = f"{sid}-s{k:04d}"
        # Round-robin over the entities, so that every event and actor is cited by some span.
        event = events[g % len(events)]
        actor = actors[g % len(actors)]
        label = enums["label"][g % len(enums["label"])] if rng.random() < 0.8 else rng.choice(enums["label"])
        lines = [f"  - span_id: {span_id}", f"    label: {label}"]
        if k % 25 == 7 and sentences:
            # A sentence that already occurred: the span quotes its second occurrence, so the
            # prefix (the words right before it) tells the two apart.
            sentences.append(repeated)
            lines.insert(2, f"    quote: {_q(repeated)}")
            spans.append(lines + [f"    event_id: {event['event_id']}"])
            continue
        if k % 25 == 3:
            sentences.append(repeated)
            sentences.append(f"Report {g} from {rng.choice(PLACES)}.")
        if label == "casualty":
            cat = rng.sample(enums["category"], 2)
            n = rng.randint(1, 900)
            qual = rng.choice(enums["qualifier"])
            quote = f"According to {rng.choice(CLAIMANTS)}, {qual.replace('_', ' ')} {n} people were {cat[0]} at {event['place']} ({g})."
            lines += [f"    quote: {_q(quote)}", f"    event_id: {event['event_id']}", "    casualties:"]
            claim = [f"      - category: {cat[0]}"]
            claim += _explicit_id("casualty_id", span_id, cat[0])
            if qual == "range":
                claim += [f"        count_min: {n}", f"        count_max: {n + rng.randint(1, 50)}"]
            elif qual != "unknown":
                claim.append(f"        count: {n}")
            claim += [f"        qualifier: {qual}", f"        victim_actor_id: {actor['actor_id']}",
                      f"        claimant: {_q(rng.choice(CLAIMANTS))}"]
            lines += claim
            if rng.random() < 0.3:
                lines += [f"      - category: {cat[1]}", *_explicit_id("casualty_id", span_id, cat[1]), f"        count: {n // 2 + 1}", "        qualifier: about",
                          f"        perpetrator_actor_id: {actors[(g + 1) % len(actors)]['actor_id']}",
                          f"        claimant: {_q(rng.choice(CLAIMANTS))}"]
        elif label == "demand":
            text = rng.choice(DEMAND_TEXTS)
            category = rng.choice(enums["demand_category"])
            quote = f"They demanded {text} – “{rng.choice(FLAVOUR)}” ({g})."
            lines += [f"    quote: {_q(quote)}", f"    event_id: {event['event_id']}", "    demands:",
                      f"      - actor_id: {actor['actor_id']}", f"        text: {_q(text)}",
                      f"        category: {category}", *_explicit_id("demand_id", span_id, category),
                      # The outcome is a claim of its own (here stated by the demand's own span).
                      "    outcomes:", f"      - demand_id: {span_id}-{category.replace('_', '-')}",
                      f"        outcome: {rng.choice(enums['outcome'])}"]
        elif label in ("actor", "repression"):
            role = rng.choice(enums["role"])
            quote = f"{actor['actor_id'].upper()} acted as {role} near {rng.choice(FLAVOUR)} ({g})."
            lines += [f"    quote: {_q(quote)}", f"    event_id: {event['event_id']}", "    actors:",
                      f"      - actor_id: {actor['actor_id']}", f"        role: {role}"]
            if rng.random() < 0.5:
                lines += [f"        count: {rng.randint(10, 20000)}", f"        qualifier: {rng.choice(['exact', 'about', 'at_least'])}"]
        else:
            date = _edtf(rng, event["_year"])
            quote = f"In {event['place']}, {rng.choice(CYRILLIC)}: the events of {date.rstrip('~')} ({g})."
            lines += [f"    quote: {_q(quote)}", "    events:", f"      - event_id: {event['event_id']}",
                      f"        date: {_q(date)}", f"        place: {_q(event['place'])}"]
        sentences.append(quote)
        spans.append(lines)
    body, line = [], []
    for i, s in enumerate(sentences):
        line.append(s)
        if i % 4 == 3:
            body.append(" ".join(line))
            line = []
    body.append(" ".join(line))
    text = f"Synthetic article {sid}.\n\n" + "\n".join(body) + "\n"
    # Spans quoting the repeated sentence get the words before its occurrence as prefix.
    hits, i = [], text.find(repeated)
    while i >= 0:
        hits.append(i)
        i = text.find(repeated, i + 1)
    # Every second occurrence is the one quoted (the first precedes it by one sentence).
    quoted = iter(hits[1::2])
    out = [f"# Synthetic annotations of {sid}.", f"source: {sid}", "spans:"]
    for lines in spans:
        if lines[2] == f"    quote: {_q(repeated)}":
            at = next(quoted)
            lines = lines[:3] + [f"    prefix: {_q(text[max(0, at - 20):at])}"] + lines[3:]
        out += lines
    return text, "\n".join(out) + "\n"


def generate(out: Path, n_spans: int, n_sources: int | None = None, seed: int = 1, datapackage: Path | None = None) -> Path:
    """Write the corpus under out/raw and return that folder."""
    meta = load_metadata(datapackage or ROOT / "datapackage.json")
    enums = _enums(meta)
    rng = random.Random(seed)
    n_sources = n_sources or max(1, -(-n_spans // SPANS_PER_SOURCE))
    n_events = max(3, n_spans // 500)
    n_actors = max(3, n_spans // 1000)
    events, actors = entities(n_events, n_actors, enums, rng)
    raw = out / "raw"
    (raw / "texts").mkdir(parents=True, exist_ok=True)
    (raw / "annotations").mkdir(parents=True, exist_ok=True)
    (raw / "annotations" / "entities.yaml").write_text(_entities_yaml(events, actors), encoding="utf-8")
    src_lines = ["# Synthetic sources of the benchmark corpus.", "sources:"]
    first = 0
    for s in range(n_sources):
        sid = f"bench-{s:06d}"
        n = n_spans // n_sources + (1 if s < n_spans % n_sources else 0)
        text, ann = source_files(sid, first, n, events, actors, enums, rng)
        first += n
        data = text.encode("utf-8")
        (raw / "texts" / f"{sid}.txt").write_bytes(data)
        (raw / "annotations" / f"{sid}.yaml").write_text(ann, encoding="utf-8")
        src_lines += [
            f"  - source_id: {sid}", f"    title: {_q(f'Synthetic article {s} – “{rng.choice(FLAVOUR)}”')}",
            f"    publisher: {_q(rng.choice(['Test Press', 'Трибуна', 'Głos Robotniczy']))}",
            f"    published: \"{rng.randint(1953, 2020)}-{rng.randint(1, 12):02d}\"",
            "    license: CC0-1.0", "    language: en", f"    sha256: {hashlib.sha256(data).hexdigest()}",
        ]
    (raw / "sources.yaml").write_text("\n".join(src_lines) + "\n", encoding="utf-8")
    return raw


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, required=True, help="number of spans")
    parser.add_argument("--sources", type=int, default=None, help=f"number of sources (default: spans / {SPANS_PER_SOURCE})")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="folder to write raw/ into")
    args = parser.parse_args(argv)
    print(generate(args.out, args.spans, args.sources, args.seed))


if __name__ == "__main__":
    main()
