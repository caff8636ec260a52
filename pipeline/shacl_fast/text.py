"""Terms as pyshacl writes them in the messages it makes up for shapes without sh:message
(a port of pyshacl.rdfutil.stringify): IRIs as prefixed names of the graph's namespace
manager, literals as `Literal("lex" = value, lang=.., datatype=..)`, blank nodes as a
Turtle-like description of their triples, RDF lists as `( a b )`.

`graph` is anything with `predicates(node)`, `objects(node, p)` and `items(list)`: the
shapes graph (an rdflib Graph) or the data (engine.DataView)."""

from __future__ import annotations

from rdflib import BNode, Literal, URIRef

from .vocab import OWL_SAMEAS, RDF_FIRST, SH


def bind_sh(ns_manager) -> None:
    """pyshacl binds sh: on every namespace manager it writes with, unless taken."""
    ns_manager.bind("sh", SH, override=False, replace=False)


def node_text(graph, node, ns_manager, recursion: int = 0, cache: dict | None = None) -> str:
    """`cache`: blank node -> its text, as pyshacl keeps it (per graph, the first text made
    for a node, whatever its depth; which shows only for blank-node cycles nested deeper
    than the recursion limit)."""
    if isinstance(node, Literal):
        return literal_text(graph, node, ns_manager)
    if isinstance(node, BNode):
        return bnode_text(graph, node, ns_manager, recursion + 1, cache)
    if isinstance(node, URIRef):
        try:
            return node.n3(namespace_manager=ns_manager)
        except Exception:  # noqa: BLE001 - as pyshacl: any failure gives the plain IRI
            return str(node)
    return str(node)


def literal_text(graph, node: Literal, ns_manager) -> str:
    value = None if node.value is None else str(node.value)
    lex = str(node)
    if value is not None:
        at = value.find(" object at 0x")
        if at > 0:
            value = value[:at]
    text = f'"{lex}" = {value}' if value is not None and value != lex else f'"{lex}"'
    lang = f", lang={node.language}" if node.language else ""
    if node.datatype:
        if isinstance(node.datatype, (URIRef, Literal)):
            datatype = node_text(graph, node.datatype, ns_manager)
        else:
            datatype = str(node.datatype)
        dtype = f", datatype={datatype}"
    else:
        dtype = ""
    return f"Literal({text}{lang}{dtype})"


def bnode_text(graph, bnode: BNode, ns_manager, recursion: int, cache: dict | None = None
               ) -> str:
    if recursion >= 12:
        return "<http://recursion.too.deep>"
    if cache is not None and bnode in cache:
        return cache[bnode]
    predicates = list(graph.predicates(bnode))
    if not predicates:
        return "[ ]"
    if RDF_FIRST in predicates:
        items = [node_text(graph, item, ns_manager, recursion + 1, cache)
                 for item in graph.items(bnode)]
        return "( {} )".format(" ".join(items))
    by_predicate = {}
    for p in predicates:
        if isinstance(p, (Literal, BNode, URIRef)):
            p_text = p.n3(namespace_manager=ns_manager)
        else:
            p_text = str(p)
        objects = list(graph.objects(bnode, p))
        if not objects:
            continue
        texts = []
        for o in objects:
            if p is OWL_SAMEAS and o is bnode:
                texts.append("<self>")
            else:
                texts.append(node_text(graph, o, ns_manager, recursion + 1, cache))
        if len(texts) > 1:
            texts.sort()
            by_predicate[p_text] = ", ".join(texts)
        else:
            by_predicate[p_text] = texts[0]
    if len(by_predicate) > 1:
        body = " ; ".join(f"{p} {o}" for p, o in sorted(by_predicate.items()))
    else:
        ((p, o),) = by_predicate.items()
        body = f"{p} {o}"
    text = f"[ {body} ]"
    if cache is not None:
        cache[bnode] = text
    return text
