"""Compiles the row mapping of `graph.ROW_NODES` into one Python function per table that renders rows straight to text.

Input: the metadata (base IRI, schemas). Output: `PartitionRenderer`, whose `render(rows,
language)` gives the Turtle, N-Triples and JSON-LD fragments of a partition's rows. Interpreting
the mapping into a `Graph` and rendering that costs about 6 µs per triple, most of the build at
scale; the generated code does the same work per row with string concatenation and constants
worked out in advance. The generated source is plain Python (`PartitionRenderer.source`), and
the tests check that its output parses to the same graph as the interpreted mapping.

Subjects come out in row order rather than sorted, and a subject that several rows speak about
(an event and its roles) gets several Turtle blocks and JSON-LD node objects; both parse to the
same graph as one would.
"""

from __future__ import annotations

from urllib.parse import quote

from pipeline.export import graph as g
from pipeline.export.render import JSON_SEPARATOR, Renderer, quoted
from pipeline.metadata import Metadata


class _Source:
    """The generated source, line by line, with its indentation and named constants."""

    def __init__(self):
        self.lines: list[str] = []
        self.depth = 0
        self.constants: dict[str, object] = {}
        self._names: dict[str, str] = {}

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def const(self, value: str) -> str:
        """The name of a module-level constant holding value."""
        name = self._names.get(value)
        if name is None:
            name = self._names[value] = f"C{len(self._names)}"
            self.constants[name] = value
        return name


class PartitionRenderer:
    """Renders the rows of the partition tables as Turtle, N-Triples and JSON-LD fragments."""

    def __init__(self, meta: Metadata):
        self.graph = g.new_graph(meta.base_iri, g._extra_properties(meta))
        self.names = Renderer(self.graph)
        self.schemes = g._schemes(meta)
        self.primary_keys = {t: meta[t].primary_key for t in g.ROW_NODES if t in meta.tables}
        self.order = {p.term: i for i, p in enumerate(self.graph.ordered)}
        out = _Source()
        tables = g.row_nodes(meta)
        for table, nodes in tables.items():
            self._table(out, table, nodes)
        self.source = "\n".join(out.lines) + "\n"
        namespace: dict[str, object] = {**out.constants, "_key": g.iri_key, "_part": g.iri_key_part,
                                        "_quoted": quoted, "quote": quote}
        exec(compile(self.source, f"<row renderers for {self.graph.base}>", "exec"), namespace)  # noqa: S102
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
        out(f"def render_{table}(rows, language, T, N, J):")
        out.depth += 1
        out("for r in rows:")
        out.depth += 1
        for c in columns:
            out(f'v_{c} = r.get("{c}")')
        for c in keyed:
            out(f"k_{c} = None if v_{c} is None else _key(v_{c})")
        for node in nodes:
            self._node(out, table, node)
        out.depth -= 2
        out("")

    def _iri(self, out: _Source, expr, var: str) -> None:
        """Emit code setting `<var>` to the full IRI of expr, `<var>_t` to its Turtle spelling and `<var>_r` to its JSON-LD one.

        Our own IRIs are relative to the base IRI in both (`@base`): keys never hold "/", "#",
        ":" or a lone dot segment.
        """
        if isinstance(expr, g.RowIri):
            parts = ' + "." + '.join(f'_part(r["{k}"])' for k in self.primary_keys[expr.table])
            segment = g.SEGMENTS[expr.table] + "/"
            out(f"k = {parts}")
            out(f"{var} = {out.const(self.graph.base + segment)} + k")
            out(f"{var}_r = {out.const(segment)} + k")
            out(f'{var}_t = "<" + {var}_r + ">"')
        elif isinstance(expr, (g.Ref, g.Concept)):
            segment = self._segment(expr)
            out(f"{var} = {out.const(self.graph.base + segment)} + k_{expr.column}")
            out(f"{var}_r = {out.const(segment)} + k_{expr.column}")
            out(f'{var}_t = "<" + {var}_r + ">"')
        elif isinstance(expr, g.Wikidata):
            out(f"{var} = {out.const(g.WIKIDATA)} + quote(str(v_{expr.column}))")
            out(f"{var}_r = {var}")
            out(f'{var}_t = "<" + {var} + ">"')
        else:
            raise TypeError(expr)

    def _condition(self, expr) -> str | None:
        """The Python condition under which expr has a value; None if it always has one."""
        conds = [f"v_{c} is not None" for c in _columns(expr)]
        if isinstance(expr, g.Ref) and expr.when:
            conds.append("(" + " or ".join(f"v_{c} is not None" for c in expr.when) + ")")
        return " and ".join(conds) or None

    def _node(self, out: _Source, table: str, node) -> None:
        conds = [c for c in (self._condition(node.subject),
                             " or ".join(f"v_{c} is not None" for c in node.when)) if c]
        depth = out.depth
        if conds:
            out("if " + " and ".join(f"({c})" for c in conds) + ":")
            out.depth += 1
        self._iri(out, node.subject, "s")
        out('sn = "<" + s + "> "')
        if any(isinstance(e, g.Quote) for _, e in node.pairs):
            out('lang = language.get(r["source_id"], "")')

        # Pairs in the order the writers use: rdf:type first, then by property IRI.
        pairs = [("@type", g.Fixed(t)) for t in node.types]
        pairs += sorted((p for p in node.pairs if not isinstance(p[1], g.Concept) or self._segment(p[1])),
                        key=lambda pair: self.order[pair[0]])
        groups: list[tuple[str, list]] = []
        for term, expr in pairs:
            if groups and groups[-1][0] == term:
                groups[-1][1].append(expr)
            else:
                groups.append((term, [expr]))

        out(f"T({out.const(chr(10))} + s_t)")
        node_start = out.const(JSON_SEPARATOR + '{"@id": "')
        out(f"J({node_start} + s_r + '\"')")
        # Whether the first predicate is certain to be written decides how Turtle separates them.
        certain = bool(groups) and all(self._condition(e) is None for e in groups[0][1])
        if not certain:
            out('sep = "\\n    "')
        for index, (term, exprs) in enumerate(groups):
            prop = self.graph.props[term]
            ttl_pred = "a" if prop.iri == g.RDF_TYPE else self.names.ttl_name(prop.iri)
            js_key = '"@type"' if term == "@type" else quoted(term)
            ttl_head = (out.const(("\n    " if index == 0 else " ;\n    ") + ttl_pred + " ") if certain
                        else f"sep + {out.const(ttl_pred + ' ')}")
            js_head = out.const(", " + js_key + ": ")
            nt_pred = out.const(f"<{prop.iri}> ")
            if all(isinstance(e, g.Fixed) for e in exprs):
                # Classes and other fixed IRIs: the Turtle and JSON text is known now.
                values = [self.graph.expand(e.curie) for e in exprs]
                out(f"T({ttl_head} + {out.const(', '.join(self.names.ttl_name(v) for v in values))})")
                out("N(" + " + ".join(f"sn + {nt_pred} + {out.const('<' + v + '> .' + chr(10))}" for v in values) + ")")
                names = [chr(34) + (self.names.type_name(v) if term == "@type" else v) + chr(34) for v in values]
                out(f"J({js_head} + {out.const(names[0] if len(names) == 1 else '[' + ', '.join(names) + ']')})")
            elif all(self._condition(e) is None for e in exprs):
                # Every value is there: one Turtle object list, one JSON value or array.
                objects = []
                for n, expr in enumerate(exprs):
                    self._value(out, prop, term, expr, f"o{n}")
                    out(f"N(sn + {nt_pred} + o{n}_n + ' .\\n')")
                    objects.append(f"o{n}")
                out(f"T({ttl_head} + " + ' + ", " + '.join(f"{o}_t" for o in objects) + ")")
                if len(objects) == 1:
                    out(f"J({js_head} + o0_j)")
                else:
                    out(f"J({js_head} + '[' + " + ' + ", " + '.join(f"{o}_j" for o in objects) + " + ']')")
            elif len(exprs) == 1:
                out(f"if {self._condition(exprs[0])}:")
                out.depth += 1
                self._value(out, prop, term, exprs[0], "o0")
                out(f"N(sn + {nt_pred} + o0_n + ' .\\n')")
                out(f"T({ttl_head} + o0_t)")
                out(f"J({js_head} + o0_j)")
                if not certain:
                    out('sep = " ;\\n    "')
                out.depth -= 1
            else:
                # Several values, some of which may be missing: collected at run time.
                out("ts = []")
                out("js = []")
                for expr in exprs:
                    cond = self._condition(expr)
                    if cond:
                        out(f"if {cond}:")
                        out.depth += 1
                    self._value(out, prop, term, expr, "o0")
                    out(f"N(sn + {nt_pred} + o0_n + ' .\\n')")
                    out("ts.append(o0_t)")
                    out("js.append(o0_j)")
                    if cond:
                        out.depth -= 1
                out("if ts:")
                out.depth += 1
                out(f'T({ttl_head} + ", ".join(ts))')
                out(f"J({js_head} + (js[0] if len(js) == 1 else '[' + ', '.join(js) + ']'))")
                if not certain:
                    out('sep = " ;\\n    "')
                out.depth -= 1
        out('T(" .\\n")')
        out('J("}")')
        out.depth = depth

    def _value(self, out: _Source, prop, term: str, expr, var: str) -> None:
        """Emit code setting `<var>_t`, `<var>_n`, `<var>_j`: the value in Turtle, N-Triples and JSON."""
        kind = prop.kind
        if isinstance(expr, g.Fixed):
            iri = self.graph.expand(expr.curie)
            json_value = self.names.type_name(iri) if term == "@type" else iri
            out(f"{var}_t = {out.const(self.names.ttl_name(iri))}")
            out(f"{var}_n = {out.const('<' + iri + '>')}")
            out(f"{var}_j = {out.const(chr(34) + json_value + chr(34))}")
            return
        if kind == "iri":
            self._iri(out, expr, var)
            out(f'{var}_n = "<" + {var} + ">"')
            out(f"{var}_j = '\"' + {var}_r + '\"'")
            return
        if isinstance(expr, g.Quote):
            out(f"q = _quoted(str(v_{expr.column}))")
            out(f'{var}_t = {var}_n = q + "@" + lang if lang else q')
            out(f"{var}_j = '{{\"@value\": ' + q + ', \"@language\": \"' + lang + '\"}}' if lang else q")
            return
        if not isinstance(expr, g.Col):
            raise TypeError(expr)
        v = f"v_{expr.column}"
        datatype = g.DATATYPES.get(kind)
        if kind == "string":
            out(f"{var}_t = {var}_n = {var}_j = _quoted(str({v}))")
        elif kind in ("integer", "nonneg"):
            out(f"{var}_j = str(int({v}))")
            out(f"{var}_n = '\"' + {var}_j + {out.const(chr(34) + '^^<' + datatype + '>')}")
            if kind == "integer":
                out(f"{var}_t = {var}_j")
            else:
                out(f"{var}_t = '\"' + {var}_j + {out.const(chr(34) + '^^' + self.names.ttl_name(datatype))}")
        elif kind == "boolean":
            out(f'{var}_t = {var}_j = "true" if {v} else "false"')
            out(f"{var}_n = '\"' + {var}_t + {out.const(chr(34) + '^^<' + datatype + '>')}")
        elif kind in ("date", "edtf"):
            out(f"{var}_j = _quoted(str({v}))")
            out(f"{var}_n = {var}_j + {out.const('^^<' + datatype + '>')}")
            out(f"{var}_t = {var}_j + {out.const('^^' + self.names.ttl_name(datatype))}")
        else:
            raise TypeError(kind)


def _columns(expr) -> list[str]:
    """The columns an expression needs a value in (its pair is left out without one)."""
    if isinstance(expr, (g.Col, g.Quote, g.Wikidata, g.Concept, g.Ref)):
        return [expr.column]
    return []


_RENDERERS: dict[int, tuple[Metadata, PartitionRenderer]] = {}


def partition_renderer(meta: Metadata) -> PartitionRenderer:
    """The compiled renderer for meta, made once per process (workers inherit it through fork)."""
    held = _RENDERERS.get(id(meta))
    if held is None or held[0] is not meta:
        held = _RENDERERS[id(meta)] = (meta, PartitionRenderer(meta))
    return held[1]
