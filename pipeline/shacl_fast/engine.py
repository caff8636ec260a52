"""Validation: index the data once, find every shape's focus nodes in one pass, then run
per focus node a plan made for its combination of shapes (cached across calls)."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from time import perf_counter

from rdflib import BNode, Graph, Literal, URIRef

from . import text
from .fastpath import Code, checks
from .paths import EMPTY, union_of
from .shapes import Shape, shape_terms
from .vocab import RDF_FIRST, RDF_REST, RDF_TYPE, RDFS_SUBCLASSOF

PURE_CACHE_LIMIT = 200_000  # verdicts of pure shapes kept across calls, then started afresh


@dataclass(frozen=True)
class FastResult:
    """One validation result, as pyshacl's report graph gives it (sh:focusNode,
    sh:resultPath, sh:value, sh:sourceShape, sh:sourceConstraintComponent,
    sh:resultSeverity, sh:resultMessage). `path` and `source_shape` are the very nodes of
    the shapes graph (blank nodes included); `value` is None when pyshacl gives no sh:value;
    `messages` are the literals pyshacl gives as sh:resultMessage (the shape's sh:message
    values, or the text pyshacl makes up when the shape has none)."""

    focus: object
    path: object
    value: object
    source_shape: object
    component: URIRef
    severity: URIRef
    messages: list = field(default_factory=list, hash=False)


class Data:
    """The data graph of one validate() call: subject -> predicate -> values (each value
    once), inverse indexes for the predicates that inverse paths use, rdfs:subClassOf."""

    def __init__(self, out: dict, inverse: dict, supers: dict | None, pure_cache: dict,
                 graph: Graph | None):
        self.out = out
        # the subjects by the plain string of their IRI: values are rarely the very objects
        # used as subjects, and looking one up by an equal, other object calls rdflib's
        # Python-level __eq__
        self.iris = {str(s): d for s, d in out.items() if type(s) is URIRef}
        self._inverse = inverse
        self._supers = supers  # class -> the classes it is a subclass of (itself included)
        self._nested: dict = {}
        self.unique = True  # each value once in its list (else the slow paths dedupe)
        self.rdf_type = RDF_TYPE  # the index's own rdf:type object (CompiledShapes._canonical)
        self.class_bits: dict = {}  # canonical class -> bits (CompiledShapes.class_bits)
        self.bits: dict = {}  # IRI (its string) -> class_mask
        self._pure = pure_cache
        self._graph = graph
        self._ns_manager = None
        self.texts: dict = {}  # blank node -> its text in messages (text.node_text)

    # the data

    def inverse(self, predicate) -> dict:
        found = self._inverse.get(predicate)
        if found is None:
            found = {}
            for s, d in self.out.items():
                for o in d.get(predicate, EMPTY):
                    found.setdefault(o, []).append(s)
            self._inverse[predicate] = found
        return found

    def class_mask(self, value) -> int:
        """The bits (CompiledShapes.class_bits) of the classes `value` is a SHACL instance
        of: the classes of its rdf:type values and their superclasses in the data."""
        t = type(value)
        if t is URIRef:
            key = str(value)
            d = self.iris.get(key) or self.out.get(value)
        elif t is Literal or (t is not BNode and isinstance(value, Literal)):
            return 0
        else:
            d = self.out.get(value)
        mask = 0
        if d is not None:
            types = d.get(self.rdf_type)
            if types:
                bits = self.class_bits
                for ty in types:
                    mask |= bits.get(ty, 0)
        if t is URIRef:
            self.bits[key] = mask
        return mask

    def is_instance(self, value, cls) -> bool:
        """SHACL instance: a value with rdf:type cls, or a subclass of it in the data."""
        t = type(value)
        if t is URIRef:
            d = self.iris.get(str(value)) or self.out.get(value)
        elif t is Literal or (t is not BNode and isinstance(value, Literal)):
            return False
        else:
            d = self.out.get(value)
        if d is None:
            return False
        types = d.get(self.rdf_type)
        if not types:
            return False
        for t in types:  # canonical terms (see CompiledShapes._canonical): identity is ==
            if t is cls:
                return True
        supers = self._supers
        if supers:
            for t in types:
                up = supers.get(t)
                if up is not None and cls in up:
                    return True
        return False

    # nested shapes (sh:node, sh:not, sh:or, ..., sh:qualifiedValueShape)

    def nested(self, shape: Shape, value):
        key = (shape.index, value)
        cache = self._pure if shape.pure else self._nested
        found = cache.get(key)
        if found is None:
            found = cache[key] = shape.evaluate(value, self)
        return found

    def conforms(self, shape: Shape, value) -> bool:
        if shape.direct:
            if not shape.is_property:
                return shape.fast(value, (value,), self)
            values = shape.path(value, self)
            if not self.unique and len(values) > 1:
                values = list(dict.fromkeys(values))  # the checks count distinct values
            return shape.fast(value, values, self)
        return not self.nested(shape, value)[0]

    # text for messages

    @property
    def ns_manager(self):
        if self._ns_manager is None:
            manager = (self._graph if self._graph is not None else Graph()).namespace_manager
            text.bind_sh(manager)
            self._ns_manager = manager
        return self._ns_manager

    @property
    def view(self):
        return self._graph if self._graph is not None else DataView(self.out)


class DataView:
    """Enough of rdflib's Graph API over the index for text.node_text."""

    def __init__(self, out: dict):
        self.out = out

    def predicates(self, node):
        return list(self.out.get(node, {}))

    def objects(self, node, predicate):
        return list(dict.fromkeys(self.out.get(node, {}).get(predicate, EMPTY)))

    def value(self, node, predicate):
        found = self.out.get(node, {}).get(predicate)
        return next(iter(found)) if found else None

    def items(self, head):
        chain = {head}
        while head:
            item = self.value(head, RDF_FIRST)
            if item is not None:
                yield item
            head = self.value(head, RDF_REST)
            if head in chain:
                raise ValueError("List contains a recursive rdf:rest reference")
            chain.add(head)


class Plan:
    """What to run on a focus node that a given combination of shapes targets.

    `own`: node shapes whose own constraints (not sh:property) run on the node itself;
    `always`: property shapes that may report on a node without values (sh:minCount,
    sh:hasValue, ...) or have a complex path; `by_predicate`: the other property shapes by
    their predicate (they have nothing to say about a node that does not use it). `check`
    and `checks[p]` are generated functions that are True when all of those conform."""

    def __init__(self, top: list[Shape], class_bits: dict):
        self.class_bits = class_bits
        self.own: list[Shape] = []
        self.always: list[Shape] = []
        by_predicate: dict = {}
        for shape in top:
            if shape.deactivated:
                continue
            if shape.is_property:
                units = [shape]
            else:
                if shape.own:
                    self.own.append(shape)
                units = [p for p in shape.properties if not p.deactivated]
            for prop in units:
                if prop.simple_predicate is not None and not prop.absence_sensitive:
                    by_predicate.setdefault(prop.simple_predicate, []).append(prop)
                else:
                    self.always.append(prop)
        self.by_predicate = by_predicate
        self.check = self._check_function()

    def _check_function(self):
        """`check(focus, d, data)`: True when nothing in this plan has anything to say about
        the node (d: its predicate -> values)."""
        code = Code(self.class_bits)
        code.namespace["union_of"] = union_of
        code.lines += ["def check(focus, d, data):", "    node = (focus,)"]
        for shape in self.own:
            checks(code, shape, shape.own, "    ", values="node")
        for prop in self.always:
            if prop.simple_predicate is not None:
                key = code.name(prop.simple_predicate, "p")
                code.lines.append(f"    values = d.get({key}, EMPTY)")
            elif hasattr(prop.path, "predicates"):
                keys = code.name(prop.path.predicates, "alternatives")
                code.lines.append(f"    values = union_of(d, {keys})")
            else:
                code.lines.append(f"    values = {code.name(prop.path, 'path')}(focus, data)")
            checks(code, prop, prop.constraints, "    ")
        for p, props in self.by_predicate.items():
            code.lines += [f"    values = d.get({code.name(p, 'p')})",
                           "    if values is not None:", "        pass"]
            for prop in props:
                checks(code, prop, prop.constraints, "        ")
        code.lines.append("    return True")
        return code.build("check")

    def run_slow(self, focus, d, data, raw: list) -> None:
        """The exact evaluation (after `check` said no)."""
        node = (focus,)
        for shape in self.own:
            if not shape.own_fast(focus, node, data):
                for c in shape.own:
                    found = c.run(shape, focus, node, data)
                    if found is not None and found[1]:
                        raw.extend(found[1])
        for prop in self.always:
            _nc, reports = prop.evaluate(focus, data)
            if reports:
                raw.extend(reports)
        by_predicate = self.by_predicate
        for p, values in d.items():
            props = by_predicate.get(p)
            if props is not None:
                for prop in props:
                    _nc, reports = prop.evaluate_values(focus, values, data)
                    if reports:
                        raw.extend(reports)


class CompiledShapes:
    """A shapes graph compiled once; `validate` runs it on data graphs."""

    def __init__(self, sg: Graph, shapes: list[Shape]):
        self.sg = sg
        self.shapes = shapes
        self.class_bits = shapes[0].class_bits if shapes else {}
        self._pure: dict = {}
        self._plans: dict = {}
        self.last_stats: dict = {}  # what the last validate() did, and how long each part took
        # one object per IRI of the shapes graph: data predicates and classes are mapped to
        # them, so that lookups by predicate or class hit by identity
        self._shape_terms = shapes[0].terms if shapes else shape_terms(sg)
        top = []
        classes: dict = {}
        subjects_of: dict = {}
        objects_of: dict = {}
        self._target_nodes: dict = {}
        inverse: set = set()
        for shape in shapes:
            inverse |= shape.needs_inverse
            targets = shape.targets(sg)
            if not any(targets.values()):
                continue
            bit = 1 << len(top)
            top.append(shape)
            for cls in targets["classes"]:
                classes[cls] = classes.get(cls, 0) | bit
            for p in targets["subjects_of"]:
                subjects_of[p] = subjects_of.get(p, 0) | bit
            for p in targets["objects_of"]:
                objects_of[p] = objects_of.get(p, 0) | bit
            for node in targets["nodes"]:
                self._target_nodes[node] = self._target_nodes.get(node, 0) | bit
        self.top = top
        canonical = self._canonical
        self._classes = {canonical(c): m for c, m in classes.items()}
        self._inverse_predicates = {canonical(p) for p in inverse}
        self._subject_watch = tuple((canonical(p), m) for p, m in subjects_of.items())
        # predicate -> (mask of the shapes targeting its objects, whether an inverse index
        # of it is needed, whether it is rdfs:subClassOf, whether it is rdf:type)
        special: dict = {}
        for p in set(objects_of) | inverse | {RDFS_SUBCLASSOF, RDF_TYPE}:
            special[canonical(p)] = (objects_of.get(p, 0), p in inverse, p == RDFS_SUBCLASSOF,
                                     p == RDF_TYPE)
        self._special = special
        self._target_nodes = {canonical(n): m for n, m in self._target_nodes.items()}
        # class -> the bits of the shapes targeting it, and (shifted past them) its bits in
        # class_bits (the classes some sh:class names): one lookup per rdf:type value gives
        # a node both its shapes and its classes
        self._shift = shift = len(top)
        self._all_targets = (1 << shift) - 1
        self.class_bits = {canonical(c): b for c, b in self.class_bits.items()}
        self._combined = {c: self._classes.get(c, 0) | (self.class_bits.get(c, 0) << shift)
                          for c in set(self._classes) | set(self.class_bits)}

    # the data

    def _canonical(self, term):
        """The shapes graph's own object for an IRI it has (else the term itself)."""
        if type(term) is URIRef:
            return self._shape_terms.get(str(term), term)
        return term

    def validate(self, data_graph) -> list[FastResult]:
        """The results pyshacl.validate(data_graph, shacl_graph=<these shapes>,
        inference="none", advanced=False, allow_warnings=True, allow_infos=True) reports,
        for an rdflib Graph or an iterable of (s, p, o) rdflib-term triples."""
        # the index is a few hundred thousand small dicts and lists and holds no cycle: the
        # cyclic garbage collector, run again and again as they are made, would take longer
        # than all the rest (it is switched back on at the end)
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._validate(data_graph)
        finally:
            if collecting:
                gc.enable()

    def _validate(self, data_graph) -> list[FastResult]:
        graph = data_graph if isinstance(data_graph, Graph) else None
        started = perf_counter()
        if len(self._pure) > PURE_CACHE_LIMIT:
            self._pure.clear()

        # 1. the index: subject -> predicate -> [objects]. Predicates and rdf:type values
        # are replaced by one canonical object per IRI (the shapes graph's own where it has
        # the IRI), found by its plain string: an rdflib term looked up by an equal but
        # other object calls Python-level Identifier.__eq__, which would otherwise dominate
        # the run time; with canonical terms later lookups hit by identity. On the way,
        # what the targets and inverse paths need.
        canon = dict(self._shape_terms)  # str -> the IRI's canonical URIRef (this call)
        cget = canon.get
        special = self._special
        extra: dict = dict(self._target_nodes)  # node -> shapes targeting it as an object
        inverse: dict = {p: {} for p in self._inverse_predicates}
        subclass_pairs: list = []
        out: dict = {}
        get = out.get
        last_s = last_d = None
        for s, p, o in data_graph:
            if p.__class__ is URIRef:
                key = str(p)
                cp = cget(key)
                if cp is None:
                    cp = canon[key] = p
            else:
                cp = p  # not an IRI (a generalised RDF graph): looked up by equality
            sp = special.get(cp)
            if sp is not None:
                obj_mask, needs_inverse, is_subclass, is_type = sp
                if is_type and o.__class__ is URIRef:
                    key = str(o)
                    co = cget(key)
                    if co is None:
                        canon[key] = o
                    else:
                        o = co
                if obj_mask:
                    extra[o] = extra.get(o, 0) | obj_mask
                if needs_inverse:
                    found = inverse[cp].get(o)
                    if found is None:
                        inverse[cp][o] = [s]
                    else:
                        found.append(s)
                if is_subclass:
                    subclass_pairs.append((s, o))
            if s is last_s:
                d = last_d
            else:
                d = get(s)
                if d is None:
                    d = out[s] = {}
                last_s, last_d = s, d
            values = d.get(cp)
            if values is None:
                d[cp] = [o]
            else:
                values.append(o)
        indexed = perf_counter()

        # 2. per focus node: its shapes (a bit mask), the plan for them, the plan's checks
        combined = self._combined
        shift = self._shift
        all_targets = self._all_targets
        supers = None
        if subclass_pairs:  # a class also has the shapes and bits of its superclasses
            supers = _closures(subclass_pairs)
            combined = dict(combined)
            for cls, ups in supers.items():
                bits = 0
                for up in ups:
                    bits |= self._combined.get(up, 0)
                if bits:
                    combined[cls] = bits
        data = Data(out, inverse, supers, self._pure, graph)
        data.unique = graph is not None  # a Graph holds each triple once; a list may not
        data.rdf_type = rdf_type = cget(str(RDF_TYPE), RDF_TYPE)
        data.class_bits = {c: b >> shift for c, b in combined.items() if b >> shift}
        bits = data.bits
        raw: list = []
        plans = self._plans
        subject_watch = self._subject_watch
        for focus, d in out.items():
            mask = 0
            types = d.get(rdf_type)
            if types is not None:
                for t in types:
                    mask |= combined.get(t, 0)
                if mask > all_targets:
                    if type(focus) is URIRef:
                        bits[str(focus)] = mask >> shift
                    mask &= all_targets
            for p, m in subject_watch:
                if p in d:
                    mask |= m
            if extra:
                mask |= extra.pop(focus, 0)
            if mask:
                self._run(plans, mask, focus, d, data, raw)
        empty: dict = {}
        for focus, mask in extra.items():  # targets that are no subject here
            if mask:
                self._run(plans, mask, focus, out.get(focus, empty), data, raw)
        evaluated = perf_counter()
        results = [self._result(r, data) for r in raw]
        self.last_stats = {"index_seconds": indexed - started,
                           "evaluate_seconds": evaluated - indexed,
                           "results_seconds": perf_counter() - evaluated,
                           "subjects": len(out), "results": len(results)}
        return results

    def _run(self, plans, mask, focus, d, data, raw) -> None:
        plan = plans.get(mask)
        if plan is None:
            plan = plans[mask] = Plan([s for i, s in enumerate(self.top) if mask >> i & 1],
                                      self.class_bits)
        if not plan.check(focus, d, data):
            plan.run_slow(focus, d, data, raw)

    def _result(self, raw, data) -> FastResult:
        shape, constraint, focus, value, path, component = raw
        if shape.raw_messages:
            messages = list(shape.messages)
        else:
            messages = constraint.generic(self.sg, data, focus, value)
        return FastResult(focus, path, value, shape.node, component, shape.severity, messages)


def _closures(pairs: list) -> dict:
    """class -> every class it is rdfs:subClassOf, transitively, itself included (rdflib's
    transitive_objects)."""
    up: dict = {}
    for s, o in pairs:
        up.setdefault(s, []).append(o)
    closures = {}
    for start in up:
        seen = {start}
        todo = [start]
        while todo:
            node = todo.pop()
            for o in up.get(node, ()):
                if o not in seen:
                    seen.add(o)
                    todo.append(o)
        closures[start] = seen
    return closures


__all__ = ["CompiledShapes", "FastResult", "Data", "BNode"]
