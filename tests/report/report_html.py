"""A small reader of the report's HTML for tests: sections (id, part) in page order, and every
table with its caption, header, row groups (``<tbody>`` blocks) and cells (main text, the
smaller line underneath, badge, CSS classes), so tests assert on what a reader sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Cell:
    text: str = ""
    sub: str = ""
    badge: str = ""
    cls: str = ""
    header: bool = False


@dataclass
class Table:
    section: str
    caption: str = ""
    cls: str = ""
    head: list[str] = field(default_factory=list)
    bodies: list[list[list[Cell]]] = field(default_factory=list)
    in_details: bool = False

    def rows(self) -> list[list[Cell]]:
        return [r for b in self.bodies for r in b]


@dataclass
class Page:
    sections: list[tuple[str, str]] = field(default_factory=list)  # (id, part)
    tables: list[Table] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)  # (section, summary)
    images: list[tuple[str, str]] = field(default_factory=list)  # (section, alt)
    gens: list[dict] = field(default_factory=list)

    def section_ids(self) -> list[str]:
        return [s for s, _ in self.sections]

    def table(self, section: str, caption_start: str) -> Table:
        found = [
            t for t in self.tables if t.section == section and t.caption.startswith(caption_start)
        ]
        assert found, (section, caption_start, [(t.section, t.caption) for t in self.tables])
        return found[0]


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.part = ""
        self.section = ""
        self.table: Table | None = None
        self.row: list[Cell] | None = None
        self.cell: Cell | None = None
        self.span: str | None = None
        self.in_caption = False
        self.in_summary = False
        self.summary = ""
        self.details_depth = 0
        self.gen: dict | None = None
        self.gen_field: str | None = None
        self.side = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class") or ""
        if tag == "div" and cls == "part":
            self.part = a.get("id", "").removeprefix("part-")
        elif tag == "section":
            self.section = a.get("id", "")
            self.page.sections.append((self.section, self.part))
        elif tag == "details":
            self.details_depth += 1
        elif tag == "summary":
            self.in_summary, self.summary = True, ""
        elif tag == "table":
            self.table = Table(self.section, cls=cls, in_details=self.details_depth > 0)
            self.page.tables.append(self.table)
        elif tag == "caption":
            self.in_caption = True
        elif tag == "tbody" and self.table is not None:
            self.table.bodies.append([])
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = Cell(cls=cls, header=tag == "th")
        elif tag == "span" and self.cell is not None:
            self.span = cls
        elif tag == "img":
            self.page.images.append((self.section, a.get("alt", "")))
        elif tag == "div" and cls == "gen":
            self.gen = {
                "prompt": "",
                "before": "",
                "after": "",
                "tags": "",
                "same": False,
                "in_details": self.details_depth > 0,
            }
            self.page.gens.append(self.gen)
        elif tag == "div" and self.gen is not None and cls in ("prompt", "tags"):
            self.gen_field = cls
        elif tag == "div" and self.gen is not None and cls == "same":
            self.gen["same"] = True
        elif tag == "div" and self.gen is not None and cls in ("before", "after"):
            self.side = cls
        elif tag == "span" and self.gen is not None and cls == "answer":
            self.gen_field = self.side

    def handle_endtag(self, tag):
        if tag == "details":
            self.details_depth -= 1
        elif tag == "summary":
            self.in_summary = False
            self.page.details.append((self.section, self.summary.strip()))
        elif tag == "caption":
            self.in_caption = False
        elif tag == "span" and self.gen_field in ("before", "after"):
            self.gen_field = None
        elif tag == "span":
            self.span = None
        elif tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.cell.text, self.cell.sub = self.cell.text.strip(), self.cell.sub.strip()
            self.row.append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None and self.table is not None:
            if all(c.header for c in self.row) and not self.table.bodies:
                self.table.head = [c.text for c in self.row]
            else:
                if not self.table.bodies:
                    self.table.bodies.append([])
                self.table.bodies[-1].append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "div" and self.gen_field is not None:
            self.gen_field = None

    def handle_data(self, data):
        if self.in_summary:
            self.summary += data
        if self.in_caption and self.table is not None:
            self.table.caption += data
        if self.cell is not None:
            if self.span == "sub":
                self.cell.sub += ("\n" if self.cell.sub else "") + data
            elif self.span == "badge":
                self.cell.badge += data
            else:
                self.cell.text += data
        if self.gen is not None and self.gen_field:
            self.gen[self.gen_field] += data


def read_page(html: str) -> Page:
    reader = _Reader()
    reader.feed(html)
    return reader.page
