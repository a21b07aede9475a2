"""The PDF layer: text flows within its column, tables break across pages with their header
row, and the document is tagged (structure a screen reader follows, the chart described)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from onemind.reports.pdf import BOLD, REGULAR, Document, Run, flow, load_fonts


def width(line: list[Run]) -> float:
    return sum(pdfmetrics.stringWidth(run.text, run.font, run.size) for run in line)


def text(lines: list[list[Run]]) -> list[str]:
    return ["".join(run.text for run in line) for line in lines]


@pytest.mark.parametrize(
    ("runs", "column", "expected"),
    [
        ([Run("one two three")], 500, ["one two three"]),
        ([Run("one two three")], 40, ["one two", "three"]),
        ([Run("one\ntwo")], 500, ["one", "two"]),
        (
            [Run("as of "), Run("2026-11-26", BOLD), Run(" · program")],
            500,
            ["as of 2026-11-26 · program"],
        ),
        ([Run("Łukasiewicz-Zoë-O'Brien-García")], 50, None),  # wider than the column
    ],
)
def test_text_flows_within_its_column(runs: list[Run], column: float, expected: list[str]) -> None:
    load_fonts()
    lines = flow(runs, column)
    assert all(width(line) <= column for line in lines)
    if expected is None:
        assert len(lines) > 1 and "".join(text(lines)) == runs[0].text
    else:
        assert text(lines) == expected


def test_a_long_table_repeats_its_header_on_every_page_and_is_tagged() -> None:
    doc = Document("A title", "a subject", "footer name")
    doc.heading("People", 1)
    header = [[Run("name", BOLD)], [Run("needs", BOLD)]]
    rows = [[[Run(f"Person {n}")], [Run("training\nmore training")]] for n in range(120)]
    doc.table([0.4, 0.6], rows, header)
    with doc.figure(50, "a chart in words") as top:
        doc.canvas.line(40, top, 80, top - 40)
    reader = PdfReader(io.BytesIO(doc.bytes()))

    pages = [page.extract_text() for page in reader.pages]
    assert len(pages) > 2
    assert all(page.lstrip().startswith("name") for page in pages[1:])
    footers = [f"page{i}of{len(pages)}" for i in range(1, len(pages) + 1)]
    assert all(f in "".join(page.split()) for f, page in zip(footers, pages, strict=True))
    assert "Person 0" in pages[0] and "Person 119" in pages[-1]

    catalog = reader.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"].value is True and catalog["/Lang"] == "en"
    assert reader.metadata is not None and reader.metadata.title == "A title"
    kinds: dict[str, int] = {}
    alts = []

    def walk(element: object) -> None:
        element = element.get_object()  # type: ignore[attr-defined]
        kind = str(element["/S"])
        kinds[kind] = kinds.get(kind, 0) + 1
        if "/Alt" in element:
            alts.append(element["/Alt"])
        for kid in element.get("/K", []):
            if not isinstance(kid, int):
                walk(kid)

    for kid in catalog["/StructTreeRoot"]["/K"]:
        walk(kid)
    assert kinds["/H1"] == 1 and kinds["/Table"] == 1 and kinds["/Figure"] == 1
    assert kinds["/TR"] == 120 + len(pages) and kinds["/TD"] == 240
    assert alts == ["a chart in words"]
    assert [page["/StructParents"] for page in reader.pages] == list(range(len(pages)))


def test_fonts_are_registered_once() -> None:
    load_fonts()
    load_fonts()
    assert pdfmetrics.getRegisteredFontNames().count(REGULAR) == 1
