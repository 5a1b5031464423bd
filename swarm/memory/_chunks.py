"""A Python file cut into what memory embeds: its module docstring, each class and function.

The cut is a tree-sitter parse with the scout's grammar (``tree-sitter-python``),
so it copes with files that do not fully parse: whatever definitions tree-sitter
recovers become chunks. A method is its own chunk (``Class.method``); a class's
chunk is its header, docstring and the signatures of its methods, so the class
and its methods do not repeat each other's bodies.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import tree_sitter_python
from tree_sitter import Language, Node, Parser

#: At most this many characters of a chunk are stored and embedded.
MAX_CHARS = 4000
_WORD_SPLIT = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|_+")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One piece of a file: where it is, what it is called, its source text."""

    symbol: str
    chunk_kind: str  # function | class | module
    start_line: int
    end_line: int
    text: str
    doc: str  # its docstring ("" if none)

    def embed_text(self, path: str) -> str:
        """What the model reads: the names as words, the docstring, then the code.

        Why words: a question says "compute the total", never ``compute_total``;
        the small model reads split names far better than joined ones.
        """
        words = humanise(self.symbol) if self.symbol else humanise(path.rsplit("/", 1)[-1])
        head = f"{words} ({self.chunk_kind} in {path})"
        return f"{head}. {self.doc}\n{self.text}" if self.doc else f"{head}.\n{self.text}"


def humanise(name: str) -> str:
    """``Cart.apply_discount`` / ``parseHTTPDate`` as lower-case words."""
    name = name.removesuffix(".py").replace(".", " ")
    return " ".join(w.lower() for w in _WORD_SPLIT.split(name) if w).strip()


@functools.cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_python.language()))


def code_chunks(source: bytes) -> list[Chunk]:
    """The module docstring (if any) and every class and function, in file order."""
    tree = _parser().parse(source)
    out: list[Chunk] = []
    root = tree.root_node
    doc = _docstring(root)
    if doc is not None:
        out.append(_chunk("", "module", doc, _clean_doc(_text(doc))))
    _walk(root, "", out)
    return out


def _walk(body: Node, prefix: str, out: list[Chunk]) -> None:
    for node in body.named_children:
        target = node
        if node.type == "decorated_definition":
            inner = node.child_by_field_name("definition")
            if inner is None:
                continue
            target = inner
        if target.type not in ("function_definition", "class_definition"):
            continue
        name = _text(target.child_by_field_name("name"))
        if not name:
            continue
        qual = f"{prefix}{name}"
        block = target.child_by_field_name("body")
        doc_node = _docstring(block) if block is not None else None
        doc = _clean_doc(_text(doc_node)) if doc_node is not None else ""
        if target.type == "function_definition":
            out.append(_chunk(qual, "function", node, doc))
            continue  # nested functions stay inside their parent's chunk
        out.append(_class_chunk(qual, node, target, block, doc))
        if block is not None:
            _walk(block, f"{qual}.", out)


def _class_chunk(qual: str, node: Node, target: Node, block: Node | None, doc: str) -> Chunk:
    """The class's header, docstring and its methods' signatures (not their bodies)."""
    lines = [_text(target).split("\n", 1)[0]]
    if doc:
        lines.append(f'    """{doc}"""')
    for child in block.named_children if block is not None else []:
        target = child.child_by_field_name("definition") or child
        if target.type == "function_definition":
            body = target.child_by_field_name("body")
            end = body.start_byte if body is not None else target.end_byte
            src = target.text or b""
            sig = src[: end - target.start_byte].decode(errors="replace").rstrip()
            lines.append("    " + " ".join(sig.split()))
        elif child.type == "expression_statement" and _assignment(child):
            lines.append("    " + _text(child).split("\n", 1)[0])
    text = "\n".join(lines)[:MAX_CHARS]
    return Chunk(qual, "class", node.start_point[0] + 1, node.end_point[0] + 1, text, doc)


def _assignment(node: Node) -> bool:
    return bool(node.named_children) and node.named_children[0].type == "assignment"


def _chunk(symbol: str, kind: str, node: Node, doc: str) -> Chunk:
    text = _text(node)[:MAX_CHARS]
    return Chunk(symbol, kind, node.start_point[0] + 1, node.end_point[0] + 1, text, doc)


def _docstring(block: Node | None) -> Node | None:
    """The string statement a module or body starts with, if it starts with one."""
    if block is None:
        return None
    for child in block.named_children:
        if child.type == "comment":
            continue
        if child.type == "expression_statement" and child.named_children:
            first = child.named_children[0]
            if first.type == "string":
                return first
        return None
    return None


def _clean_doc(literal: str) -> str:
    """A string literal's text without its quotes and prefix, whitespace collapsed."""
    body = literal.lstrip("rRbBuUfF")
    for quote in ('"""', "'''", '"', "'"):
        if body.startswith(quote) and body.endswith(quote) and len(body) >= 2 * len(quote):
            body = body[len(quote) : -len(quote)]
            break
    return " ".join(body.split())[:1000]


def _text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode(errors="replace")
