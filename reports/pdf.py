"""PDF pages laid out directly with ReportLab's canvas: paragraphs and tables that flow from
page to page, every piece tagged (`pdf_tags`), a footer with "page N of M" on each page.

Text stays text in DejaVu Sans (any name on a roster prints), registered once per process; a
warm process lays out a report of a few pages in tens of milliseconds, where WeasyPrint took
about half a second to lay out the HTML page. `agency_pdf` fills the pages of a report.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from onemind.reports.pdf_tags import Element, Tags

REGULAR, BOLD = "OneMindSans", "OneMindSans-Bold"
FONT_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0  # US Letter
LEFT, RIGHT = 36.85, PAGE_WIDTH - 36.85  # 13 mm margins
TOP, BOTTOM = PAGE_HEIGHT - 39.7, 45.4  # 14 mm and 16 mm
WIDTH = RIGHT - LEFT
BODY, TABLE, SMALL, FOOTER = 9.5, 8.5, 8.0, 7.5
INK, GREY, FAINT = "#222222", "#555555", "#777777"
RULE, HEADER_FILL = "#dddddd", "#f0f0f0"
LEADING = 1.3
PADDING = 3.0
PAGES_FORM = "pages"

_setup = threading.Lock()


@dataclass(frozen=True)
class Run:
    """A piece of text in one font, size and colour."""

    text: str
    font: str = REGULAR
    size: float = BODY
    colour: str = INK
    right: bool = False  # aligned to the right edge of its column (a line starting with it)


Cell = Sequence[Run]  # each run of a cell starts on a new line and wraps within the column


@cache
def colour(hex_code: str) -> Color:
    """ReportLab's colour for '#rrggbb', parsed once (parsing takes longer than drawing)."""
    return HexColor(hex_code)


@cache
def _fill(hex_code: str) -> str:
    """The operator that sets the fill colour to '#rrggbb'."""
    rgb = colour(hex_code)
    return f"{fp_str(rgb.red, rgb.green, rgb.blue)} rg"


def load_fonts() -> None:
    """Register DejaVu Sans (shipped with matplotlib) once per process."""
    with _setup:
        if REGULAR in pdfmetrics.getRegisteredFontNames():
            return
        spec = find_spec("matplotlib")
        if spec is None or not spec.submodule_search_locations:
            raise RuntimeError("PDF reports need matplotlib's DejaVu fonts: install matplotlib")
        folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
        for name, file in FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(folder / file)))


class Document:
    """Pages filled from the top down: blocks of text and tables that break across pages
    (a table repeats its header row), every piece tagged, a footer on each page."""

    def __init__(self, title: str, subject: str, footer: str) -> None:
        load_fonts()
        self.out = io.BytesIO()
        self.canvas = Canvas(
            self.out, pagesize=(PAGE_WIDTH, PAGE_HEIGHT), lang="en", pageCompression=1
        )
        self.canvas.setTitle(title)
        self.canvas.setSubject(subject)
        self.canvas.setAuthor("onemind-sync")
        self.canvas.setCreator("onemind-sync")
        self.tags = Tags(self.canvas)
        self.footer = footer
        self._encoded: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.y = TOP
        self.page = 1

    def bytes(self) -> bytes:
        """Finish the last page and the document."""
        self._footer()
        self.canvas.showPage()
        self.canvas.beginForm(PAGES_FORM)
        self.canvas.setFont(REGULAR, FOOTER)
        self.canvas.setFillColor(colour(FAINT))
        self.canvas.drawString(0, 0, str(self.page))
        self.canvas.endForm()
        self.tags.close()
        self.canvas.save()
        return self.out.getvalue()

    def room(self, height: float) -> None:
        """Start a new page unless `height` points still fit on this one."""
        if self.y - height < BOTTOM and self.y < TOP:
            self._footer()
            self.canvas.showPage()
            self.tags.next_page()
            self.page += 1
            self.y = TOP

    def gap(self, points: float) -> None:
        self.y -= points

    def heading(self, text: str, level: int, keep: float = 60) -> None:
        """A heading kept with the first `keep` points of what follows; also a bookmark."""
        size = 17.0 if level == 1 else 12.5
        self.room(size * LEADING + keep)
        if level > 1:
            self.gap(8)
        key = f"h{self.page}-{self.y:.0f}"
        self.canvas.bookmarkPage(key, fit="XYZ", top=self.y + size)
        self.canvas.addOutlineEntry(text, key, level=level - 1)
        self.paragraph([Run(text, BOLD, size)], kind=f"H{level}", after=4)

    def paragraph(
        self,
        runs: Sequence[Run],
        kind: str = "P",
        after: float = 5,
        fill: str | None = None,
    ) -> None:
        """Runs flowed as one paragraph (a run may change font or colour mid-line)."""
        lines = flow(runs, WIDTH - (8 if fill else 0))
        height = sum(line_height(line) for line in lines) + (6 if fill else 0)
        self.room(height)
        if fill:
            with self.tags.artifact():
                self._box(LEFT, self.y - height, WIDTH, height, fill)
        with self.tags.content(self.tags.element(kind)):
            self._lines(lines, LEFT + (4 if fill else 0), self.y - (3 if fill else 0), WIDTH)
        self.gap(height + after)

    def table(
        self,
        widths: Sequence[float],
        rows: Sequence[Sequence[Cell]],
        header: Sequence[Cell] | None = None,
        rules: bool = True,
        header_fill: str | None = HEADER_FILL,
    ) -> None:
        """Rows of cells in columns of the given widths (shares of the text width); a row
        never breaks, and the header row starts every page the table is on."""
        columns = [w * WIDTH for w in widths]
        table = self.tags.element("Table")
        head = None if header is None else _cell_lines(columns, header)
        if head is not None:
            self.room(_height(head) + _height(_cell_lines(columns, rows[0])) if rows else 0)
            self._row(table, columns, head, "TH", rules, header_fill)
        for row in rows:
            cells = _cell_lines(columns, row)
            if head is not None and self.y < TOP and self.y - _height(cells) < BOTTOM:
                self.room(_height(head) + _height(cells))
                self._row(table, columns, head, "TH", rules, header_fill)
            self._row(table, columns, cells, "TD", rules)
        self.gap(4)

    @contextmanager
    def figure(self, height: float, alt: str) -> Iterator[float]:
        """Room for a drawing of `height` points; yields its top; tagged with its description."""
        self.room(height)
        with self.tags.content(self.tags.element("Figure", alt=alt)):
            yield self.y
        self.gap(height)

    def _row(
        self,
        table: Element,
        columns: list[float],
        cells: list[list[list[Run]]],
        kind: str,
        rules: bool,
        fill: str | None = None,
    ) -> None:
        height = _height(cells)
        self.room(height)
        top = self.y
        if fill or rules:
            with self.tags.artifact():
                if fill:
                    self._box(LEFT, top - height, sum(columns), height, fill)
                if rules:
                    self.canvas.setStrokeColor(colour(RULE))
                    self.canvas.setLineWidth(0.6)
                    self.canvas.line(LEFT, top - height, LEFT + sum(columns), top - height)
        row = self.tags.element("TR", table)
        x = LEFT
        for width, lines in zip(columns, cells, strict=True):
            with self.tags.content(self.tags.element(kind, row)):
                self._lines(lines, x + PADDING, top - PADDING, width - 2 * PADDING)
            x += width
        self.gap(height)

    def _lines(self, lines: list[list[Run]], x: float, top: float, width: float) -> None:
        """The lines as one text object, written as PDF operators: font and colour set only
        where they change, each text encoded once per document (`_pieces`). ReportLab's text
        object encoded and formatted every run anew, about a third of a report's PDF time."""
        code = ["BT"]
        face, ink = ("", 0.0), ""
        y = top
        for line in lines:
            height = line_height(line)
            y -= height
            offset = x
            if line[0].right:
                offset += width - sum(_width(run) for run in line)
            for run in line:
                if run.colour != ink:
                    ink = run.colour
                    code.append(_fill(ink))
                code.append(f"1 0 0 1 {fp_str(offset, y + 0.28 * height)} Tm")
                for name, chunk in self._pieces(run.font, run.text):
                    if (name, run.size) != face:
                        face = (name, run.size)
                        code.append(f"{name} {fp_str(run.size)} Tf")
                    code.append(f"({chunk}) Tj")
                offset += _width(run)
        code.append("ET")
        self.canvas._code.append(" ".join(code))

    def _pieces(self, font: str, text: str) -> list[tuple[str, str]]:
        """The text as (font subset, escaped string) pieces, one `Tj` each: the document's
        subsets of the embedded font hold the glyphs it uses, and a glyph keeps its code once
        given, so a text's pieces are remembered for the document (table cells repeat texts)."""
        pieces = self._encoded.get((font, text))
        if pieces is None:
            embedded, doc = pdfmetrics.getFont(font), self.canvas._doc
            pieces = [
                (embedded.getSubsetInternalName(subset, doc), self.canvas._escape(chunk))
                for subset, chunk in embedded.splitString(text, doc)
            ]
            self._encoded[(font, text)] = pieces
        return pieces

    def _box(self, x: float, y: float, width: float, height: float, ink: str) -> None:
        self.canvas.setFillColor(colour(ink))
        self.canvas.rect(x, y, width, height, stroke=0, fill=1)

    def _footer(self) -> None:
        with self.tags.artifact():
            self.canvas.setFont(REGULAR, FOOTER)
            self.canvas.setFillColor(colour(FAINT))
            self.canvas.drawString(LEFT, BOTTOM - 22, self.footer)
            label = f"page {self.page} of "
            x = RIGHT - pdfmetrics.stringWidth(f"{label}{self.page}9", REGULAR, FOOTER)
            self.canvas.drawString(x, BOTTOM - 22, label)
            self.canvas.saveState()
            self.canvas.translate(x + pdfmetrics.stringWidth(label, REGULAR, FOOTER), BOTTOM - 22)
            self.canvas.doForm(PAGES_FORM)
            self.canvas.restoreState()


def flow(runs: Sequence[Run], width: float) -> list[list[Run]]:
    """The runs broken into lines no wider than `width`: at spaces, or inside a word that is
    wider than a line by itself; a newline in a run starts a new line."""
    lines: list[list[Run]] = [[]]
    used = 0.0
    for run in runs:
        space = pdfmetrics.stringWidth(" ", run.font, run.size)
        for index, part in enumerate(run.text.split("\n")):
            if index:
                lines.append([])
                used = 0.0
            text: str | None = None
            for word in part.split(" "):
                size = pdfmetrics.stringWidth(word, run.font, run.size)
                extra = size if text is None else space + size
                if used + extra <= width:
                    text = word if text is None else f"{text} {word}"
                    used += extra
                    continue
                if text:
                    lines[-1].append(replace(run, text=text))
                if lines[-1]:
                    lines.append([])
                *whole, word = _pieces(word, run, width)
                for piece in whole:
                    lines[-1].append(replace(run, text=piece))
                    lines.append([])
                text, used = word, pdfmetrics.stringWidth(word, run.font, run.size)
            if text:
                lines[-1].append(replace(run, text=text))
    return [line for line in lines if line] or [[replace(runs[0], text="")]]


def _pieces(word: str, run: Run, width: float) -> list[str]:
    """The word cut where it would overflow a line of `width` (most words are one piece)."""
    pieces = [""]
    for char in word:
        if pieces[-1] and pdfmetrics.stringWidth(pieces[-1] + char, run.font, run.size) > width:
            pieces.append(char)
        else:
            pieces[-1] += char
    return pieces


def _width(run: Run) -> float:
    return pdfmetrics.stringWidth(run.text, run.font, run.size)


def line_height(line: Sequence[Run]) -> float:
    return max(run.size for run in line) * LEADING


def _cell_lines(columns: Sequence[float], cells: Sequence[Cell]) -> list[list[list[Run]]]:
    return [
        [line for run in cell for line in _wrapped(run, width - 2 * PADDING)]
        for width, cell in zip(columns, cells, strict=True)
    ]


@lru_cache(maxsize=4096)
def _wrapped(run: Run, width: float) -> list[list[Run]]:
    """`flow` of one run, remembered: table cells repeat the same texts row after row."""
    return flow([run], width)


def _height(cells: list[list[list[Run]]]) -> float:
    return max(sum(line_height(line) for line in lines) for lines in cells) + 2 * PADDING
