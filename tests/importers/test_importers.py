"""Importers: each tool's export of one of our passages gives our rows; round trips; hostile input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.cli import cli
from pipeline.engine.build import assemble
from pipeline.importers import brat, configs, inception, label_studio
from pipeline.importers.core import codepoints_to_utf16, utf16_to_codepoints, vocabulary
from pipeline.metadata import load_metadata
from tests.conftest import FIXTURES, ROOT, snapshot

HERE = FIXTURES / "importers"
REAL = ROOT.parent / "shared" / "fixtures" / "annotation-tools"
VORKUTA = "vorkuta-gulag-uprising-news-and-letters"


@pytest.fixture(scope="module")
def meta():
    return load_metadata(ROOT / "datapackage.json")


def _rows(raw: Path, meta, span_ids=None) -> dict:
    """Span and claim rows, each claim keyed by its span's place instead of its id (ids differ by tool).

    Whether a quote is published is the project's choice under its sources' terms, not the tool's:
    spans compare by what anchors them (offsets, quote_sha256), not by their published text.
    """
    tables = assemble(raw, meta, jobs=1, enforce_terms=False)
    spans = [r for r in tables.rows["spans"] if span_ids is None or r["span_id"] in span_ids]
    place = {r["span_id"]: (r["source_id"], r["start"], r["end"]) for r in spans}
    left_out = ("span_id", "annotator", "annotated", "quote", "prefix", "suffix")
    out = {"spans": sorted(tuple((k, str(v)) for k, v in r.items() if k not in left_out) for r in spans)}
    for table in meta.claim_tables.values():
        out[table] = sorted(
            tuple((k, str(place[r["span_id"]] if k == "span_id" else v)) for k, v in r.items())
            for r in tables.rows.get(table, [])
            if r["span_id"] in place
        )
    return out


def _without_spans(raw: Path, span_ids=None) -> None:
    """Drop spans (all, or those of span_ids) from the annotation files but keep their events and actors.

    A file left without spans no longer names its source (a file naming a source without spans is
    refused as lost data).
    """
    for path in (raw / "annotations").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "spans" in data:
            data["spans"] = [s for s in data["spans"] if span_ids is not None and s["span_id"] not in span_ids]
            if not data["spans"]:
                del data["spans"]
                data.pop("source", None)
            if not data:
                path.unlink()
                continue
            path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.fixture
def project_raw(tmp_path: Path) -> Path:
    dest = tmp_path / "raw"
    shutil.copytree(ROOT / "raw", dest)
    return dest


def _import(runner, raw: Path, *args) -> object:
    return runner.invoke(cli, ["import", *map(str, args), "--raw-dir", str(raw)])


# Tool exports of current passages of our Vorkuta source (regenerate with make_fixtures.py beside them)
# and the spans of raw/annotations/<VORKUTA>.yaml they annotate.
TOOL_FIXTURES = {
    "label-studio": (
        ["vorkuta.label-studio.json"],
        ["--annotator", "historian@example.org=annotator-1"],
        {"nl-east-berlin-strike", "nl-derevianko-commission"},
    ),
    "w3c": (
        ["vorkuta.w3c.jsonld"],
        ["--source", VORKUTA, "--annotator", "https://annotations.example.org/user/rh=annotator-2"],
        {"nl-east-berlin-demands", "nl-police-withdrew", "nl-scholmer-released"},
    ),
    "brat": (["brat/vorkuta.ann"], [], {"nl-east-berlin-strike", "nl-opened-fire"}),
    "inception": (["vorkuta.webanno.tsv"], [], {"nl-strike-july-resistance-groups", "nl-scholmer-inmate"}),
}


@pytest.mark.parametrize("fmt", sorted(TOOL_FIXTURES))
def test_tool_export_of_our_passage_gives_our_rows(fmt, project_raw, runner, meta):
    files, options, ours = TOOL_FIXTURES[fmt]
    expected = _rows(project_raw, meta, ours)
    _without_spans(project_raw, ours)
    result = _import(runner, project_raw, fmt, *[HERE / f for f in files], *options)
    assert result.exit_code == 0, result.output
    imported = yaml.safe_load(
        (
            project_raw
            / "annotations"
            / f"{VORKUTA}--{ {'label-studio': 'ls', 'inception': 'inc'}.get(fmt, fmt) }.yaml"
        ).read_text()
    )
    got = _rows(project_raw, meta, {s["span_id"] for s in imported["spans"]})
    assert got == expected


def test_committed_tool_fixtures_equal_what_make_fixtures_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", HERE / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, content in module.render(ROOT).items():
        assert (HERE / name).read_bytes() == content.encode("utf-8"), (
            f"run `python tests/fixtures/importers/make_fixtures.py` ({name})"
        )


def test_label_studio_annotator_is_published_only_as_the_project_id(project_raw, runner):
    _without_spans(project_raw, TOOL_FIXTURES["label-studio"][2])
    _import(
        runner,
        project_raw,
        "label-studio",
        HERE / "vorkuta.label-studio.json",
        "--annotator",
        "historian@example.org=annotator-1",
    )
    text = (project_raw / "annotations" / f"{VORKUTA}--ls.yaml").read_text()
    assert "annotator: annotator-1" in text and "annotated: '2024-03-05T10:20:44Z'" in text
    assert "example.org" not in text


def test_unmapped_annotator_is_refused_and_nothing_written(project_raw, runner):
    before = snapshot(project_raw)
    result = _import(runner, project_raw, "label-studio", HERE / "vorkuta.label-studio.json")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].endswith(
        "annotator 'historian@example.org' has no project id; pass --annotator 'historian@example.org=<id>' (a slug the project controls) or --drop-annotators"
    )
    assert snapshot(project_raw) == before


def test_importing_twice_adds_nothing(project_raw, runner):
    _without_spans(project_raw, TOOL_FIXTURES["brat"][2])
    args = ("brat", HERE / "brat" / "vorkuta.ann")
    assert _import(runner, project_raw, *args).exit_code == 0
    after_first = snapshot(project_raw)
    second = _import(runner, project_raw, *args)
    assert second.exit_code == 0
    assert "added 0 span(s), 2 already there" in second.output
    assert snapshot(project_raw) == after_first


@pytest.mark.parametrize("fmt", ["w3c", "label-studio", "inception"])
def test_export_then_import_gives_the_same_rows(fmt, mini_raw, runner, tmp_path, meta):
    expected = _rows(mini_raw, meta)
    out = tmp_path / "export"
    result = runner.invoke(cli, ["export-annotations", "--format", fmt, "--out", str(out), "--raw-dir", str(mini_raw)])
    assert result.exit_code == 0, result.output
    _without_spans(mini_raw)
    result = _import(runner, mini_raw, fmt, *sorted(out.iterdir()))
    assert result.exit_code == 0, result.output
    assert _rows(mini_raw, meta) == expected


def test_export_then_import_of_our_vorkuta_source_gives_the_same_rows(project_raw, runner, tmp_path, meta):
    """Every claim table of the real data, demand_outcomes included, survives a W3C round trip."""
    spans = {
        s["span_id"]
        for s in yaml.safe_load((project_raw / "annotations" / f"{VORKUTA}.yaml").read_text(encoding="utf-8"))["spans"]
    }
    expected = _rows(project_raw, meta, spans)
    assert expected["demand_outcomes"] and expected["casualties"]
    out = tmp_path / "export"
    result = runner.invoke(
        cli, ["export-annotations", "--format", "w3c", "--out", str(out), "--raw-dir", str(project_raw)]
    )
    assert result.exit_code == 0, result.output
    _without_spans(project_raw, spans)
    result = _import(runner, project_raw, "w3c", out / f"{VORKUTA}.w3c.jsonld")
    assert result.exit_code == 0, result.output
    assert f"added {len(spans)} span(s)" in result.output
    assert _rows(project_raw, meta, spans) == expected


@pytest.mark.parametrize("fmt", ["w3c", "label-studio"])
def test_a_claim_table_added_by_declaration_round_trips_with_no_importer_code(fmt, runner, tmp_path):
    """tests/fixtures/added_table declares `arrests` (a schema and a descriptor entry): export and import know it."""
    from tests.test_declared_tables import _project_with_arrests

    project = _project_with_arrests(tmp_path / "project")
    raw, package = project / "raw", project / "datapackage.json"
    meta = load_metadata(package)
    assert "arrests" in vocabulary(meta).claims
    expected = _rows(raw, meta)
    assert expected["arrests"]
    out = tmp_path / "export"
    result = runner.invoke(
        cli,
        [
            "export-annotations",
            "--format",
            fmt,
            "--out",
            str(out),
            "--raw-dir",
            str(raw),
            "--datapackage",
            str(package),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "share" in (out / sorted(p.name for p in out.iterdir())[0]).read_text(encoding="utf-8")
    _without_spans(raw)
    result = runner.invoke(
        cli, ["import", fmt, *map(str, sorted(out.iterdir())), "--raw-dir", str(raw), "--datapackage", str(package)]
    )
    assert result.exit_code == 0, result.output
    assert _rows(raw, meta) == expected


def test_export_into_raw_is_refused(mini_raw, runner):
    result = runner.invoke(
        cli, ["export-annotations", "--format", "w3c", "--out", str(mini_raw / "x"), "--raw-dir", str(mini_raw)]
    )
    assert result.exit_code == 1
    assert not (mini_raw / "x").exists()


def test_label_studio_utf16_offsets_after_an_emoji_become_code_points(mini_raw, runner, tmp_path, meta):
    text = (mini_raw / "texts" / "mini-news.txt").read_text(encoding="utf-8")
    quote = "next door"
    start = text.index(quote)
    assert any(ord(c) > 0xFFFF for c in text[:start])  # the emoji before it is two UTF-16 units
    u_start, u_end = codepoints_to_utf16(text, start), codepoints_to_utf16(text, start + len(quote))
    assert u_start == start + 1
    task = [
        {
            "id": 1,
            "data": {"text": text},
            "annotations": [
                {
                    "id": 1,
                    "result": [
                        {
                            "id": "r1",
                            "from_name": "label",
                            "to_name": "text",
                            "type": "labels",
                            "value": {"start": u_start, "end": u_end, "text": quote, "labels": ["event"]},
                        },
                        {
                            "id": "r1",
                            "from_name": "event_id",
                            "to_name": "text",
                            "type": "textarea",
                            "value": {"start": u_start, "end": u_end, "text": ["krasny-strike-1962"]},
                        },
                    ],
                }
            ],
        }
    ]
    export = tmp_path / "emoji.json"
    export.write_text(json.dumps(task, ensure_ascii=False), encoding="utf-8")
    result = _import(runner, mini_raw, "label-studio", export)
    assert result.exit_code == 0, result.output
    assert "moved" not in result.output
    spans = [r for r in assemble(mini_raw, meta, jobs=1).rows["spans"] if r["span_id"].startswith("ls-")]
    assert [(r["start"], r["end"], r["quote"]) for r in spans] == [(start, start + len(quote), quote)]


def test_wrong_offsets_are_reanchored_by_quote_and_reported(mini_raw, runner, tmp_path):
    text = (mini_raw / "texts" / "mini-news.txt").read_text(encoding="utf-8")
    quote = "The workers demanded lower prices."
    ann = {
        "type": "Annotation",
        "id": "urn:x:1",
        "body": [{"purpose": "tagging", "value": "demand"}],
        "target": {
            "source": "doc",
            "selector": [
                {"type": "TextQuoteSelector", "exact": quote},
                {"type": "TextPositionSelector", "start": 0, "end": len(quote)},
            ],
        },
    }
    export = tmp_path / "moved.json"
    export.write_text(json.dumps(ann), encoding="utf-8")
    result = _import(runner, mini_raw, "w3c", export, "--source", "mini-news")
    assert result.exit_code == 0, result.output
    start = text.index(quote)
    assert (
        f"moved: {export}: annotation urn:x:1: offsets 0-{len(quote)} -> {start}-{start + len(quote)} (found by its quote)"
        in result.output
    )


def test_quote_not_found_is_one_line_and_writes_nothing(mini_raw, runner, tmp_path):
    ann = {
        "type": "Annotation",
        "id": "urn:x:2",
        "body": [{"purpose": "tagging", "value": "event"}],
        "target": {"selector": {"type": "TextQuoteSelector", "exact": "words the article never says"}},
    }
    export = tmp_path / "lost.json"
    export.write_text(json.dumps(ann), encoding="utf-8")
    before = snapshot(mini_raw)
    result = _import(runner, mini_raw, "w3c", export, "--source", "mini-news")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith(
        f"Error: {export}: annotation urn:x:2: quote 'words the article never says' not found in the source"
    )
    assert snapshot(mini_raw) == before


def test_brat_discontinuous_span_is_refused_clearly(project_raw, runner):
    before = snapshot(project_raw)
    path = HERE / "brat" / "discontinuous.ann"
    result = _import(runner, project_raw, "brat", path)
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {path}: line 1 (T1): is a discontinuous span (1230 1237;1250 1262); our spans are one "
        "stretch of text: split it into one annotation per fragment in brat"
    )
    assert snapshot(project_raw) == before


def test_new_document_needs_bibliographic_data_then_becomes_a_source(mini_raw, runner, tmp_path, meta):
    (tmp_path / "new.txt").write_text("Miners in Vorkuta struck in July 1989.\n", encoding="utf-8")
    (tmp_path / "new.ann").write_text("T1\tevent 0 37\tMiners in Vorkuta struck in July 1989\n", encoding="utf-8")
    result = _import(runner, mini_raw, "brat", tmp_path / "new.ann")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {tmp_path / 'new.ann'}: new: its text is not under raw/texts/ yet; to add it as a new source "
        "give --source-id ... --title ... --published ... --license ... --language ..."
    )
    result = _import(
        runner,
        mini_raw,
        "brat",
        tmp_path / "new.ann",
        "--source-id",
        "vorkuta-note",
        "--title",
        "A note",
        "--published",
        "1990",
        "--license",
        "CC0-1.0",
        "--language",
        "en",
    )
    assert result.exit_code == 0, result.output
    assert (mini_raw / "texts" / "vorkuta-note.txt").read_text(
        encoding="utf-8"
    ) == "Miners in Vorkuta struck in July 1989.\n"
    tables = assemble(mini_raw, meta, jobs=1, enforce_terms=False)
    assert [r["quote"] for r in tables.rows["spans"] if r["source_id"] == "vorkuta-note"] == [
        "Miners in Vorkuta struck in July 1989"
    ]


def test_xmi_with_doctype_is_refused(mini_raw, runner, tmp_path):
    xmi = tmp_path / "doc.xmi"
    xmi.write_text(
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xmi:XMI xmlns:xmi="http://www.omg.org/XMI">&e;</xmi:XMI>'
    )
    before = snapshot(mini_raw)
    result = _import(runner, mini_raw, "inception", xmi)
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"Error: {xmi}: declares a DOCTYPE or ENTITY; XMI from INCEpTION has none, and external entities are never read"
    )
    assert snapshot(mini_raw) == before


def test_oversize_export_is_refused(mini_raw, runner, tmp_path, monkeypatch):
    monkeypatch.setattr("pipeline.importers.core.MAX_IMPORT_BYTES", 10)
    export = tmp_path / "big.json"
    export.write_text("[" + " " * 20 + "]")
    result = _import(runner, mini_raw, "label-studio", export)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {export}: is larger than 0 MiB; export fewer documents per file"


def test_writes_through_a_link_out_of_raw_are_refused(mini_raw, runner, tmp_path):
    outside = tmp_path / "elsewhere"
    shutil.move(mini_raw / "annotations", outside)
    os.symlink(outside, mini_raw / "annotations")
    before = snapshot(outside)
    text = (mini_raw / "texts" / "mini-news.txt").read_text(encoding="utf-8")
    quote = "The workers demanded lower prices."
    (tmp_path / "d.ann").write_text(f"T1\tdemand {text.index(quote)} {text.index(quote) + len(quote)}\t{quote}\n")
    shutil.copy(mini_raw / "texts" / "mini-news.txt", tmp_path / "d.txt")
    result = _import(runner, mini_raw, "brat", tmp_path / "d.ann")
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == f"Error: {mini_raw / 'annotations' / 'mini-news--brat.yaml'}: would be written outside {mini_raw}; remove the link that leads there"
    )
    assert snapshot(outside) == before


def test_committed_tool_configs_equal_what_the_generator_writes(meta):
    for name, content in configs.render(meta).items():
        assert (ROOT / "annotation-tools" / name).read_text(encoding="utf-8") == content, (
            f"run `pipeline annotation-configs` ({name})"
        )


def test_configs_declare_every_label_and_category(meta):
    conf = configs.brat_conf(meta)
    for value in meta["spans"].enum("label") + meta["casualties"].enum("category") + meta["event_actors"].enum("role"):
        assert value in conf
    layers = json.loads(configs.inception_layers_json(meta))
    tags = {f["name"]: [t["tag_name"] for t in f["tag_set"]["tags"]] for f in layers[0]["features"] if "tag_set" in f}
    assert tags["demands_category"] == meta["demands"].enum("category")
    assert tags["outcome"] == meta["demand_outcomes"].enum("outcome")


def test_tool_fields_come_from_the_claim_tables(meta):
    """Every writable column of every claim table has one tool field; derived columns and span_id have none."""
    vocab = vocabulary(meta)
    assert set(vocab.claims) == set(meta.claim_tables)
    for key, table in meta.claim_tables.items():
        schema = meta[table]
        columns = {c for f in vocab.fields.values() for k, c in f.columns.items() if k == key}
        assert columns - {"count"} == set(schema.field_names) - {"span_id"} - set(schema.derived_fields)
    # One name per column; a name several tables share is prefixed with the list under the span.
    assert (
        vocab.name("casualties", "category") == "casualties_category"
        and vocab.name("demands", "category") == "demands_category"
    )
    assert (
        vocab.name("outcomes", "demand_id") == "outcomes_demand_id" and vocab.name("outcomes", "outcome") == "outcome"
    )
    assert (
        vocab.name("actors", "event_id") == vocab.name("casualties", "event_id") == "event_id"
    )  # a span key: the span's event
    assert vocab.fields["outcome"].columns == {"outcomes": "outcome"}  # demands.outcome is derived: no field
    assert "date_precision" not in vocab.fields and "demands_outcome" in vocab.derived


def test_a_derived_column_is_refused_on_import(mini_raw, runner, tmp_path):
    text = (mini_raw / "texts" / "mini-news.txt").read_text(encoding="utf-8")
    quote = "The workers demanded lower prices."
    start = text.index(quote)
    ann = {
        "type": "Annotation",
        "id": "urn:x:3",
        "body": [
            {"purpose": "tagging", "value": "demand"},
            {
                "purpose": "describing",
                "value": "demands_demand_id: lower-prices\ntext: lower prices\ndemands_outcome: met",
            },
        ],
        "target": {
            "selector": [
                {"type": "TextQuoteSelector", "exact": quote},
                {"type": "TextPositionSelector", "start": start, "end": start + len(quote)},
            ]
        },
    }
    export = tmp_path / "derived.json"
    export.write_text(json.dumps(ann), encoding="utf-8")
    before = snapshot(mini_raw)
    result = _import(runner, mini_raw, "w3c", export, "--source", "mini-news")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: {export}: annotation urn:x:3: field 'demands_outcome' is demands.outcome, which the "
        "build derives; remove it from the tool's form"
    )
    assert snapshot(mini_raw) == before


def test_utf16_conversion_refuses_the_middle_of_a_surrogate_pair():
    assert utf16_to_codepoints("a😀b", 2) is None
    assert utf16_to_codepoints("a😀b", 4) == 3


# ---- real files from the tools' own repositories (placed by the project lead) -----------------


def _real(tool: str, name: str) -> Path:
    path = REAL / tool / name
    if not path.is_file():
        pytest.skip(f"real {tool} file not placed at ../shared/fixtures/annotation-tools/{tool}/{name}")
    return path


def test_real_brat_event_structures_are_read():
    """nlplab/brat example-data/tutorials/news/090-event_structures.ann (with its .txt)."""
    path = _real("brat", "090-event_structures.ann")
    [doc] = brat.read(path, path.name)
    assert len(doc.marks) == 22
    assert all(doc.text[m.start : m.end] == m.quote for m in doc.marks)
    assert ("T1", "T3", "Org-Arg") in {(link.from_id, link.to_id, link.label) for link in doc.links}


def test_real_webanno_tsv_with_emoji_counts_utf16_units():
    """inception-project/inception .../tsv3-suite/testSentenceWithEmoji/reference.tsv."""
    path = _real("inception", "reference.tsv")
    doc = inception.read_tsv(path.read_text(encoding="utf-8"), path.name, "reference")
    assert [(p[0], p[1], p[2]) for p in doc.pieces][-2:] == [(10, 12, "😊"), (13, 14, ".")]
    text = "I like it 😊 ."
    assert utf16_to_codepoints(text, 12) == 11 and text[utf16_to_codepoints(text, 10) : 11] == "😊"


def test_real_label_studio_image_task_is_refused_clearly():
    """HumanSignal/label-studio label_studio/tests/test_suites/samples/previous_export.json (an image task)."""
    path = _real("label-studio", "previous_export.json")
    with pytest.raises(Exception, match="task 1234: has no text in data.text"):
        label_studio.read(path, path.name)
