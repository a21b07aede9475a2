"""The structure tree of a tagged PDF written with ReportLab's canvas.

ReportLab draws; this module marks what it draws: each piece of content is a marked-content
sequence (`/P <</MCID n>> BDC … EMC`) on its page, owned by a structure element (H1, P, Table,
TR, TH, TD, Figure), and decoration is marked as an artifact. `close` writes the tree, the
parent tree and the catalog entries that tell a reader the document is tagged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from reportlab.pdfbase.pdfdoc import (
    PDFArray,
    PDFDictionary,
    PDFName,
    PDFObject,
    PDFObjectReference,
    PDFString,
)
from reportlab.pdfbase.pdfdoc import format as pdf_format
from reportlab.pdfgen.canvas import Canvas


class Element:
    """A structure element: its kind, its children (elements or marked content) and its
    dictionary once written."""

    def __init__(self, kind: str, alt: str | None = None) -> None:
        self.kind = kind
        self.alt = alt
        # child elements, or marked content as (mcid, page reference): one page per element
        self.kids: list[Element | tuple[int, Any]] = []
        self.ref: Any = None


class Tags:
    """The tree being built while a canvas draws the pages."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.document = Element("Document")
        self.marks: list[list[Element]] = [[]]  # per page, the element of each MCID

    def element(self, kind: str, parent: Element | None = None, alt: str | None = None) -> Element:
        found = Element(kind, alt)
        (parent or self.document).kids.append(found)
        return found

    @contextmanager
    def content(self, owner: Element) -> Iterator[None]:
        """Mark what is drawn inside as content of `owner` on the current page."""
        mcid = len(self.marks[-1])
        self.marks[-1].append(owner)
        owner.kids.append((mcid, self.canvas._doc.thisPageRef()))
        self.canvas._code.append(f"/{owner.kind} <</MCID {mcid}>> BDC")
        yield
        self.canvas._code.append("EMC")

    @contextmanager
    def artifact(self) -> Iterator[None]:
        """Mark what is drawn inside as decoration (rules, fills, page footers)."""
        self.canvas._code.append("/Artifact BMC")
        yield
        self.canvas._code.append("EMC")

    def next_page(self) -> None:
        self.marks.append([])

    def close(self) -> None:
        """Write the tree into the document (call after the last page, before saving)."""
        doc = self.canvas._doc
        root = PDFDictionary({"Type": PDFName("StructTreeRoot")})
        root_ref = doc.Reference(root)
        self._write(self.document, root_ref)
        root["K"] = PDFArray([self.document.ref])
        root["ParentTree"] = doc.Reference(_ParentTree(self.marks))
        root["ParentTreeNextKey"] = len(self.marks)
        doc.Catalog.StructTreeRoot = root_ref
        doc.Catalog.MarkInfo = PDFDictionary({"Marked": "true"})
        doc.Catalog.ViewerPreferences = PDFDictionary({"DisplayDocTitle": "true"})
        for index, page in enumerate(doc.Pages.pages):
            page.__NoDefault__ = [*page.__NoDefault__, "StructParents", "Tabs"]
            page.StructParents = index
            page.Tabs = PDFName("S")

    def _write(self, element: Element, parent: Any) -> None:
        entry = _StructElem(element, parent)
        element.ref = self.canvas._doc.Reference(entry)
        for kid in element.kids:
            if isinstance(kid, Element):
                self._write(kid, element.ref)


class _StructElem(PDFObject):
    """A structure element's dictionary, formatted directly: a report has hundreds of them
    (one per table cell) and ReportLab's generic dictionaries take most of the time."""

    def __init__(self, element: Element, parent: Any) -> None:
        self.element = element
        self.parent = parent

    def format(self, document: Any) -> bytes:
        element = self.element
        parts = [b"<< /Type /StructElem /S /", element.kind.encode("ascii")]
        parts += [b" /P ", _reference(self.parent, document)]
        pages = [page for kid in element.kids if isinstance(kid, tuple) for _, page in [kid]]
        if pages:
            parts += [b" /Pg ", _reference(pages[0], document)]
        if element.alt:
            parts += [b" /Alt ", pdf_format(PDFString(element.alt), document)]
        kids = [
            _reference(kid.ref, document) if isinstance(kid, Element) else b"%d" % kid[0]
            for kid in element.kids
        ]
        return b"".join([*parts, b" /K [", b" ".join(kids), b"] >>"])


class _ParentTree(PDFObject):
    """The parent tree: for each page, the element owning each of its marked-content ids."""

    def __init__(self, marks: list[list[Element]]) -> None:
        self.marks = marks

    def format(self, document: Any) -> bytes:
        pages = [
            b"%d [%b]" % (index, b" ".join(_reference(owner.ref, document) for owner in owners))
            for index, owners in enumerate(self.marks)
        ]
        return b"<< /Nums [" + b"\n".join(pages) + b"] >>"


def _reference(reference: PDFObjectReference, document: Any) -> bytes:
    """An indirect reference ('12 0 R'), formatted without ReportLab's generic formatter."""
    return b"%d %d R" % document.idToObjectNumberAndVersion[reference.name]
