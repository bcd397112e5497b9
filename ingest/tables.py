"""Tables in the canonical text: detection, header rows, and the context a row is indexed with.

Every table, whatever its source, appears in the canonical text as one line per row with
cells separated by tabs (loaders' tables are rendered that way; text files already write
them that way). A row's chunk quotes exactly that line; its indexed context spells out the
caption, the headers with their units, and the row's values, so that 「2020年报到率」 finds
``全校 5897 5735 5283 92.12`` together with what the numbers mean.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ingest.records import Heading, RowCells, Table, TableRow
from ingest.structure import Span, iter_lines

_SEPARATOR = re.compile(r"^[\s\-—–=_|+:：]*$")
_NUMBER = re.compile(r"^[-+−]?(?:\d[\d,，]*(?:\.\d+)?|\.\d+)\s*[%‰]?$")
MAX_HEADER_ROWS = 3
_BARE_INTEGER = re.compile(r"^\d{1,4}$")
# a label that says its row is the whole of a group or table, not one item of it
TOTAL_LABEL = re.compile(r"汇总|合计|总计|小计|共计|^(?:全校|全院|总体|总数|全部|全省|全市|全国)$")


_CJK_CHAR = "\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_CELL_BREAK_CJK = re.compile(rf"(?<=[{_CJK_CHAR}])\s*\n\s*|\s*\n\s*(?=[{_CJK_CHAR}])")


def render_row(cells: Sequence[str]) -> str:
    """The canonical line of a row: cells without tabs or line breaks, joined by tabs.

    A break inside a cell vanishes next to CJK text (a wrapped 「报到\n人数」) and becomes a
    space elsewhere, so two numbers stacked in one cell (``2658\n74.0``) stay apart.
    """
    rendered = []
    for cell in cells:
        cell = _CELL_BREAK_CJK.sub("", cell)
        rendered.append(re.sub(r"\s*\n\s*", " ", cell).replace("\t", " ").strip())
    return "\t".join(rendered)


def find_text_tables(text: str, exclude: Sequence[Span] = ()) -> list[list[TableRow]]:
    """Runs of tab-separated lines (blank and ``----`` lines allowed inside) with >= 2 rows."""
    tables: list[list[TableRow]] = []
    run: list[TableRow] = []
    for line in iter_lines(text):
        if any(s <= line.start < e for s, e in exclude):
            continue
        if "\t" in line.text and not _SEPARATOR.match(line.text):
            cells = tuple(cell.strip() for cell in line.text.split("\t"))
            run.append(TableRow(cells=cells, start=line.start, end=line.end))
            continue
        if not line.text.strip() or _SEPARATOR.match(line.text):
            continue  # a blank or ruled line does not end a table
        if len(run) >= 2:
            tables.append(run)
        run = []
    if len(run) >= 2:
        tables.append(run)
    return tables


def is_numeric(cell: str) -> bool:
    return bool(_NUMBER.match(cell.strip()))


def count_header_rows(rows: Sequence[Sequence[str]]) -> int:
    """Leading rows that hold labels only (no number cell), at most three, never all rows.

    A row whose first cells are empty continues the header above it (merged header cells).
    So does a row with an empty first cell right under a labelled header row even when some
    of its cells are bare integers (months 9 10 11, years): a data row there would have no
    row label to take from above, and a header may count but never holds a rate or decimal.
    """
    count = 0
    for cells in rows[:MAX_HEADER_ROWS]:
        filled = [c for c in cells if c.strip()]
        if not filled:
            break
        if any(is_numeric(c) for c in filled) and not (count and _continues_header(rows[0], cells)):
            break
        count += 1
    if count >= len(rows):
        count = 1 if len(rows) > 1 else 0
    if count > 1:
        # A label row after the first one is data unless it is visibly a sub-header
        # (an empty leading cell under a merged header).
        keep = 1
        for cells in rows[1:count]:
            if cells and not cells[0].strip():
                keep += 1
            else:
                break
        count = keep
    return count


def _continues_header(top: Sequence[str], cells: Sequence[str]) -> bool:
    """``cells`` (with number cells) still belong to the header that starts with ``top``."""
    if not top or not top[0].strip() or is_numeric(top[0]) or not cells or cells[0].strip():
        return False
    return all(_BARE_INTEGER.match(c.strip()) for c in cells if is_numeric(c))


def column_headers(header_rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """One label per column, merged headers spread right and stacked rows joined.

    A label spreads right over the empty cells after it only under the same label of the rows
    above (its merged parent): 「2023年」's months never spill into the 「总计」 column. Under a
    label spanning several columns the cells are sub-labels (本科毕业生 人数); under a label of one
    column they are the rest of it, wrapped onto the next ruled line (毕业去向 / 落实率 →
    毕业去向落实率), and so is a single character under any label (10 / 月).
    """
    labels = [""] * width
    single = [False] * width  # the row above put a label of its own column only here
    for cells in header_rows:
        above = list(labels)
        last, source = "", -1
        parts = []
        for col in range(width):
            cell = cells[col].strip() if col < len(cells) else ""
            if cell:
                last, source = cell, col
            spreads = source >= 0 and above[col] == above[source]
            part = cell or (last if col > 0 and spreads else "")
            parts.append((part, bool(cell)))
            if part and not labels[col].endswith(part):
                wrapped = cell and (single[col] or (len(part) == 1 and not cell.isdigit()))
                labels[col] = f"{labels[col]}{'' if wrapped else ' '}{part}".strip()
        single = [own and (col + 1 == width or parts[col + 1][1] or not parts[col + 1][0]) for col, (_, own) in enumerate(parts)]
    return labels


def fill_down(rows: Sequence[Sequence[str]], width: int, columns: int = 2) -> list[list[str]]:
    """Repeat a vertically merged label into the empty cells below it.

    Only label columns among the first ``columns`` are filled (a column whose values are not
    numbers): an empty number cell means "no value", never "same as above". A total row (汇总,
    合计, 小计) spans its whole group, so it takes no label from the item above it.
    """
    grid = [[cells[i].strip() if i < len(cells) else "" for i in range(width)] for cells in rows]
    label_columns = [
        col
        for col in range(min(columns, width))
        if not any(is_numeric(row[col]) for row in grid if row[col])
    ]
    above = [""] * width
    for row in grid:
        has_values = any(row[columns:])
        total = any(TOTAL_LABEL.search(cell) for cell in row[:columns] if cell)
        for col in label_columns:
            if not row[col] and has_values and above[col] and not total:
                row[col] = above[col]
        above = row
    return grid


def build_table(
    rows: Sequence[TableRow], caption: str | None = None, page: int | None = None
) -> Table:
    """A Table record from its rows (spans already known)."""
    header_rows = count_header_rows([r.cells for r in rows])
    return Table(
        rows=tuple(rows),
        header_rows=header_rows,
        start=rows[0].start,
        end=rows[-1].end,
        caption=caption,
        page=page,
    )


def find_caption(text: str, table_start: int, headings: Sequence[Heading], max_gap: int = 3) -> str | None:
    """The 表N： caption just above a table (within ``max_gap`` non-blank lines)."""
    before = [h for h in headings if h.kind == "caption" and h.end <= table_start and h.title.startswith("表")]
    if not before:
        return None
    caption = before[-1]
    between = [line for line in text[caption.end : table_start].split("\n") if line.strip()]
    return caption.title if len(between) < max_gap else None


def row_cells(table: Table, index: int, caption_span: tuple[int, int] | None = None) -> RowCells:
    """Row ``index`` of ``table`` as data; ``index`` -1 stands for the header rows."""
    width = max(len(r.cells) for r in table.rows)
    grid = fill_down([r.cells for r in table.rows], width)
    headers = column_headers(grid[: table.header_rows], width)
    header = (table.rows[0].start, table.rows[table.header_rows - 1].end) if table.header_rows else None
    cells = tuple(headers) if index < 0 else tuple(grid[index])
    return RowCells(table.caption or "", tuple(headers), cells, header, caption_span, is_header=index < 0)


def row_context(table: Table, index: int, prefix: str = "") -> str:
    """What a table row is indexed and embedded as: caption, headers with units, values."""
    row = row_cells(table, index)
    pairs = []
    for col, value in enumerate(row.cells):
        if not value:
            continue
        label = row.headers[col] if col < len(row.headers) else ""
        pairs.append(f"{label}：{value}" if label and label != value else value)
    parts = [p for p in (prefix, table.caption or "") if p]
    parts.append("；".join(pairs))
    return "\n".join(parts)


def is_repeated_header(table: Table, index: int) -> bool:
    """A header row repeated where a table continues on a new page."""
    cells = [c.strip() for c in table.rows[index].cells]
    return any(cells == [c.strip() for c in table.rows[h].cells] for h in range(table.header_rows))
