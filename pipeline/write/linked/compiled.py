"""Compiles the row mapping of `graph.ROW_NODES` into one Python function per table that renders rows straight to text.

Input: the metadata (base IRI, schemas). Output: `PartitionRenderer`, whose `render(rows,
language)` gives the Turtle, N-Triples and JSON-LD fragments of a partition's rows. Interpreting
the mapping into a `Graph` and rendering that costs about 6 µs per triple, most of the build at
scale; the generated code does the same work per row with f-strings whose constant parts are
worked out in advance (about 1 µs per triple for all three formats). The generated source is plain Python (`PartitionRenderer.source`), and
the tests check that its output parses to the same graph as the interpreted mapping.

Subjects come out in row order rather than sorted, and a subject that several rows speak about
(an event and its roles) gets several Turtle blocks and JSON-LD node objects; both parse to the
same graph as one would.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pipeline.metadata import Metadata
from pipeline.write.linked import graph as g
from pipeline.write.linked.render import JSON_SEPARATOR, Renderer, quoted


class _Source:
    """The generated source, line by line, with its indentation."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)


class PartitionRenderer:
    """Renders the validated rows of the partition tables as Turtle, N-Triples and JSON-LD fragments.

    Rows must have passed the cell checks: a required column's value is not tested for None.
    """

    def __init__(self, meta: Metadata):
        self.graph = g.new_graph(meta.base_iri, g._extra_properties(meta))
        self.names = Renderer(self.graph)
        self.schemes = g._schemes(meta)
        self.primary_keys = {t: meta[t].primary_key for t in g.ROW_NODES if t in meta.tables}
        self.order = {p.term: i for i, p in enumerate(self.graph.ordered)}
        # Columns a validated row always has a value in: their pairs need no test, and runs of
        # such pairs become one call per format. Only validated rows are rendered.
        self.required = {
            t: {c for c in meta[t].field_names if meta[t].required(c)} for t in g.ROW_NODES if t in meta.tables
        }
        self.present: set[str] = set()
        self.value_of: dict[str, str] = {}
        self.key_of: dict[str, str] = {}
        out = _Source()
        tables = g.row_nodes(meta)
        for table, nodes in tables.items():
            self._table(out, table, nodes)
        self.source = "\n".join(out.lines) + "\n"
        namespace: dict[str, Any] = {
            "_key": g.iri_key,
            "_part": g.iri_key_part,
            "_quoted": quoted,
            "quote": quote,
            "_decimal": g.decimal_text,
            "_wkt": g.wkt_point,
        }
        # Code generated above from the graph and the schemas, never from the data.
        exec(compile(self.source, f"<row renderers for {self.graph.base}>", "exec"), namespace)
        self.functions = {table: namespace[f"render_{table}"] for table in tables}

    def render(self, rows: dict[str, list[dict]], language: dict[str, str]) -> tuple[str, str, str]:
        """The Turtle, N-Triples and JSON-LD fragments of rows (each JSON-LD node object after JSON_SEPARATOR)."""
        ttl: list[str] = []
        nt: list[str] = []
        js: list[str] = []
        for table, function in self.functions.items():
            if rows.get(table):
                function(rows[table], language, ttl.append, nt.append, js.append)
        return "".join(ttl), "".join(nt), "".join(js)

    # -- code generation -------------------------------------------------------------------

    def _segment(self, expr) -> str | None:
        """The path segment (with its slash) of the IRIs a Ref or Concept makes, None if it makes none."""
        if isinstance(expr, g.Ref):
            return expr.segment + "/"
        scheme = self.schemes.get((expr.table, expr.column))
        return None if scheme is None else scheme + "/"

    def _table(self, out: _Source, table: str, nodes) -> None:
        exprs = [node.subject for node in nodes] + [e for node in nodes for _, e in node.pairs]
        columns = sorted({c for e in exprs for c in _columns(e)} | {c for n in nodes for c in n.when})
        keyed = sorted({e.column for e in exprs if isinstance(e, (g.Ref, g.Concept)) and self._segment(e)})
        self.present = self.required[table]
        out(f"def render_{table}(rows, language, T, N, J):")
        out.depth += 1
        out("for r in rows:")
        out.depth += 1
        # Variables are numbered, not named after the columns: a column name need not be an identifier.
        self.value_of = {c: f"v{n}" for n, c in enumerate(columns)}
        self.key_of = {c: f"k{n}" for n, c in enumerate(columns)}
        for c in columns:
            out(f"{self.value_of[c]} = r.get({c!r})")
        for c in keyed:
            v, k = self.value_of[c], self.key_of[c]
            out(f"{k} = _key({v})" if c in self.present else f"{k} = None if {v} is None else _key({v})")
        for node in nodes:
            self._node(out, table, node)
        out.depth -= 2
        out("")

    def _iri(self, out: _Source, expr, var: str) -> tuple[list, list, list]:
        """(full IRI, Turtle spelling, JSON-LD string) of expr as pieces; may emit code setting `<var>`.

        Our own IRIs are relative to the base IRI in Turtle and JSON-LD (`@base`): keys never
        hold "/", "#", ":" or a lone dot segment.
        """
        if isinstance(expr, g.Fixed):
            iri = self.graph.expand(expr.curie)
            return [iri], [self.names.ttl_name(iri)], ['"' + iri + '"']
        if isinstance(expr, g.RowIri):
            parts = ' + "." + '.join(f"_part(r[{k!r}])" for k in self.primary_keys[expr.table])
            out(f"{var} = {parts}")
            segment, key = g.SEGMENTS[expr.table] + "/", _Code(var)
        elif isinstance(expr, (g.Ref, g.Concept)):
            ref_segment, key = self._segment(expr), _Code(self.key_of[expr.column])
            if ref_segment is None:  # a concept without a scheme makes no IRI (callers leave it out)
                raise TypeError(expr)
            segment = ref_segment
        elif isinstance(expr, g.Wikidata):
            out(f"{var} = quote(str({self.value_of[expr.column]}))")
            key = _Code(var)
            return [g.WIKIDATA, key], ["<" + g.WIKIDATA, key, ">"], ['"' + g.WIKIDATA, key, '"']
        elif isinstance(expr, g.GeoNames):
            out(f"{var} = quote(str({self.value_of[expr.column]}))")
            key = _Code(var)
            return [g.GEONAMES, key, "/"], ["<" + g.GEONAMES, key, "/>"], ['"' + g.GEONAMES, key, '/"']
        else:
            raise TypeError(expr)
        return [self.graph.base + segment, key], ["<" + segment, key, ">"], ['"' + segment, key, '"']

    def _condition(self, expr) -> str | None:
        """The Python condition under which expr has a value; None if it always has one."""
        conds = [f"{self.value_of[c]} is not None" for c in _columns(expr) if c not in self.present]
        if isinstance(expr, g.Ref) and expr.when:
            conds.append("(" + " or ".join(f"{self.value_of[c]} is not None" for c in expr.when) + ")")
        return " and ".join(conds) or None

    def _node(self, out: _Source, table: str, node) -> None:
        conds = [
            c
            for c in (self._condition(node.subject), " or ".join(f"{self.value_of[c]} is not None" for c in node.when))
            if c
        ]
        depth = out.depth
        if conds:
            out("if " + " and ".join(f"({c})" for c in conds) + ":")
            out.depth += 1
        full, ttl_subject, json_subject = self._iri(out, node.subject, "ks")
        out(f"sn = {_fstring(['<', *full, '> '])}")
        if any(isinstance(e, g.Quote) for _, e in node.pairs):
            out('lang = language.get(r["source_id"], "")')

        # Pairs in the order the writers use: rdf:type first, then by property IRI.
        pairs = [("@type", g.Fixed(t)) for t in node.types]
        pairs += sorted(
            (p for p in node.pairs if not isinstance(p[1], g.Concept) or self._segment(p[1])),
            key=lambda pair: self.order[pair[0]],
        )
        groups: list[tuple[str, list]] = []
        for term, expr in pairs:
            if groups and groups[-1][0] == term:
                groups[-1][1].append(expr)
            else:
                groups.append((term, [expr]))

        # Text of each format not yet written: runs of pairs that are always there become one
        # call per format.
        pending = {"T": ["\n", *ttl_subject], "N": [], "J": [JSON_SEPARATOR + '{"@id": ', *json_subject]}

        def flush():
            for name, pieces in pending.items():
                if pieces:
                    out(f"{name}({_fstring(pieces)})")
                    pieces.clear()

        # Whether the first predicate is certain to be written decides how Turtle separates them.
        certain = bool(groups) and all(self._condition(e) is None for e in groups[0][1])
        if not certain:
            flush()
            out('sep = "\\n    "')
        for index, (term, exprs) in enumerate(groups):
            prop = self.graph.props[term]
            ttl_pred = "a" if prop.iri == g.RDF_TYPE else self.names.ttl_name(prop.iri)
            js_key = '"@type"' if term == "@type" else quoted(term)
            ttl_head = (
                [("\n    " if index == 0 else " ;\n    ") + ttl_pred + " "]
                if certain
                else [_Code("sep"), ttl_pred + " "]
            )
            nt_pred = f"<{prop.iri}> "
            present = [e for e in exprs if self._condition(e) is None]
            if len(present) == len(exprs):
                # Each value gets its own variable: the pending text refers to it until flushed.
                values = [self._value(out, prop, term, e, f"o{index}_{n}") for n, e in enumerate(exprs)]
                pending["T"] += ttl_head + _joined([t for t, _, _ in values], ", ")
                for _, nt_pieces, _ in values:
                    pending["N"] += [_Code("sn"), nt_pred, *nt_pieces, " .\n"]
                js = _joined([j for _, _, j in values], ", ")
                pending["J"] += [", " + js_key + ": "] + (js if len(values) == 1 else ["[", *js, "]"])
                if not certain:
                    flush()
                    out('sep = " ;\\n    "')
                continue
            flush()
            if len(exprs) == 1:
                out(f"if {self._condition(exprs[0])}:")
                out.depth += 1
                t, nt, j = self._value(out, prop, term, exprs[0], "o0")
                out(f"T({_fstring(ttl_head + t)})")
                out(f"N({_fstring([_Code('sn'), nt_pred, *nt, ' .' + chr(10)])})")
                out(f"J({_fstring([', ' + js_key + ': ', *j])})")
                if not certain:
                    out('sep = " ;\\n    "')
                out.depth -= 1
                continue
            # Several values, some of which may be missing: collected at run time.
            out("ts = []")
            out("js = []")
            for n, expr in enumerate(exprs):
                cond = self._condition(expr)
                if cond:
                    out(f"if {cond}:")
                    out.depth += 1
                t, nt, j = self._value(out, prop, term, expr, f"o{n}")
                out(f"N({_fstring([_Code('sn'), nt_pred, *nt, ' .' + chr(10)])})")
                out(f"ts.append({_fstring(t)})")
                out(f"js.append({_fstring(j)})")
                if cond:
                    out.depth -= 1
            out("if ts:")
            out.depth += 1
            out(f'T({_fstring(ttl_head)} + ", ".join(ts))')
            out(f"J({_fstring([', ' + js_key + ': '])} + (js[0] if len(js) == 1 else '[' + ', '.join(js) + ']'))")
            if not certain:
                out('sep = " ;\\n    "')
            out.depth -= 1
        pending["T"].append(" .\n")
        pending["J"].append("}")
        flush()
        out.depth = depth

    def _value(self, out: _Source, prop, term: str, expr, var: str) -> tuple[list, list, list]:
        """The value of expr in Turtle, N-Triples and JSON, as pieces; may emit code setting `<var>`."""
        kind = prop.kind
        if isinstance(expr, g.Fixed) and term == "@type":
            iri = self.graph.expand(expr.curie)
            return [self.names.ttl_name(iri)], ["<" + iri + ">"], ['"' + self.names.type_name(iri) + '"']
        if kind == "iri":
            full, ttl, json_string = self._iri(out, expr, var)
            return ttl, ["<", *full, ">"], json_string
        v = _Code(var)
        if isinstance(expr, g.Point):
            out(f"{var} = _quoted(_wkt({self.value_of[expr.lon]}, {self.value_of[expr.lat]}))")
            wkt = g.DATATYPES[kind]
            return [v, "^^" + self.names.ttl_name(wkt)], [v, "^^<" + wkt + ">"], [v]
        if isinstance(expr, g.Quote):
            out(f"{var} = _quoted(str({self.value_of[expr.column]}))")
            out(f'{var}t = {var} + "@" + lang if lang else {var}')
            out(f"{var}j = '{{\"@value\": ' + {var} + ', \"@language\": \"' + lang + '\"}}' if lang else {var}")
            return [_Code(var + "t")], [_Code(var + "t")], [_Code(var + "j")]
        if not isinstance(expr, g.Col):
            raise TypeError(expr)
        column = self.value_of[expr.column]
        if kind == "string":
            out(f"{var} = _quoted(str({column}))")
            return [v], [v], [v]
        datatype = g.DATATYPES.get(kind)
        if datatype is None:
            raise TypeError(kind)
        if kind in ("integer", "nonneg"):
            out(f"{var} = int({column})")
            nt = ['"', v, '"^^<' + datatype + ">"]
            ttl = [v] if kind == "integer" else ['"', v, '"^^' + self.names.ttl_name(datatype)]
            return ttl, nt, [v]
        if kind == "boolean":
            out(f'{var} = "true" if {column} else "false"')
            return [v], ['"', v, '"^^<' + datatype + ">"], [v]
        if kind == "decimal":
            out(f"{var} = _quoted(_decimal({column}))")
            return [v, "^^" + self.names.ttl_name(datatype)], [v, "^^<" + datatype + ">"], [v]
        if kind in ("date", "edtf"):
            out(f"{var} = _quoted(str({column}))")
            return [v, "^^" + self.names.ttl_name(datatype)], [v, "^^<" + datatype + ">"], [v]
        raise TypeError(kind)


class _Code(str):
    """A Python expression among the literal pieces of a generated f-string."""


def _fstring(pieces: list) -> str:
    """The source of an f-string (a plain string if it has no `_Code`) of literal text and expressions."""
    if not any(isinstance(p, _Code) for p in pieces):
        return repr("".join(pieces))
    return 'f"' + "".join("{" + p + "}" if isinstance(p, _Code) else _escaped(p) for p in pieces) + '"'


def _escaped(text: str) -> str:
    """Literal text for the inside of a double-quoted f-string."""
    for old, new in (
        ("\\", "\\\\"),
        ('"', '\\"'),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\t", "\\t"),
        ("{", "{{"),
        ("}", "}}"),
    ):
        text = text.replace(old, new)
    return text


def _joined(lists: list[list], separator: str) -> list:
    """The pieces of each list, with separator between lists."""
    out: list = []
    for n, pieces in enumerate(lists):
        if n:
            out.append(separator)
        out += pieces
    return out


def _columns(expr) -> list[str]:
    """The columns an expression needs a value in (its pair is left out without one)."""
    if isinstance(expr, (g.Col, g.Quote, g.Wikidata, g.GeoNames, g.Concept, g.Ref)):
        return [expr.column]
    if isinstance(expr, g.Point):
        return [expr.lon, expr.lat]
    return []


_RENDERERS: dict[int, tuple[Metadata, PartitionRenderer]] = {}


def partition_renderer(meta: Metadata) -> PartitionRenderer:
    """The compiled renderer for meta, made once per process (workers inherit it through fork)."""
    held = _RENDERERS.get(id(meta))
    if held is None or held[0] is not meta:
        held = _RENDERERS[id(meta)] = (meta, PartitionRenderer(meta))
    return held[1]
