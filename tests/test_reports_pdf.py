"""The PDF layer: text flows within its column, tables break across pages with their header
row, and the document is tagged (structure a screen reader follows, the chart described)."""

from __future__ import annotations

import io
import re

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
    nums = catalog["/StructTreeRoot"]["/ParentTree"]["/Nums"]
    assert nums[0::2] == list(range(len(pages)))
    for page, owners in zip(reader.pages, nums[1::2], strict=True):
        marked = re.findall(rb"/MCID (\d+)", page.get_contents().get_data())
        assert [int(mcid) for mcid in marked] == list(range(len(owners)))
        for mcid, owner in enumerate(owners):
            element = owner.get_object()
            assert mcid in element["/K"] and element["/Pg"].get_object() == page.get_object()


def test_fonts_are_registered_once() -> None:
    load_fonts()
    load_fonts()
    assert pdfmetrics.getRegisteredFontNames().count(REGULAR) == 1


def test_text_beyond_one_font_subset_and_repeated_texts_read_back() -> None:
    """A subset of the embedded font holds 256 glyphs: names from many scripts spill into
    more subsets, and a text drawn again reuses its encoding."""
    letters = [chr(code) for code in range(0x100, 0x250) if chr(code).isalpha()]
    letters += [chr(code) for code in range(0x410, 0x450)]  # Cyrillic
    names = ["".join(letters[start : start + 12]) for start in range(0, len(letters), 12)]
    assert len(set("".join(names))) > 256
    doc = Document("Names", "names", "footer")
    rows = [[[Run(name)], [Run("Patrol Officer", colour="#b2182b")]] for name in names * 2]
    doc.table([0.6, 0.4], rows)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(doc.bytes())).pages)

    for name in names:
        assert text.count(name) == 2
    assert text.count("Patrol Officer") == 2 * len(names)
