"""The table an office sends upward: one row per indicator, Chinese headings, as CSV or as an Excel workbook.

The indicators beyond the seeded programme's table (catalog `additional`) follow it in a section of their own,
under a row that names it (附加指标), so the rows above keep the shape the table sent upward has always had."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter

from pb_metrics.programs.catalog import INDICATORS
from pb_metrics.programs.units import target_rate
from pb_metrics.progress.service import IndicatorProgress, Progress
from pbkit.money import format_money

HEADINGS = ("指标编号", "指标", "统计口径", "单位", "目标值", "实际值", "上年值", "增长率", "增长目标", "是否达标")
NOT_ASSESSED = "—"
ADDITIONAL_SECTION = "附加指标"
_MONEY_FORMAT = "#,##0.00"
_PERCENT_FORMAT = "0.00%"
# An Excel number is a double: 15 significant digits are all it keeps. A value with more is written as text.
EXCEL_DIGITS = 15

Cell = int | Decimal | str | None


@dataclass(frozen=True)
class Quantity:
    """A number with the kind of number it is, so CSV writes it as text and Excel as a typed cell."""

    value: int | Decimal | None
    kind: str  # count | yuan | rate


def _quantity(unit: str, value: int | Decimal | None) -> Quantity:
    if unit == "yuan":
        return Quantity(value, "yuan")
    if unit == "ratio":
        return Quantity(value, "rate")
    if unit == "rate":  # ten-thousandths inside
        return Quantity(None if value is None else target_rate(int(value)), "rate")
    return Quantity(value, "count")


def _period(progress: Progress, row: IndicatorProgress) -> str:
    if row.indicator.period == "cumulative":
        return f"累计（{progress.program.program.first_year}年起）"
    return "年度"


def _met(row: IndicatorProgress) -> str:
    if not row.assessed:
        return NOT_ASSESSED
    return "是" if row.met else "否"


Row = tuple[str | Quantity, ...]


def rows(progress: Progress) -> list[Row]:
    """The table's rows: the indicators in the programme's order, the additional ones after a row naming their
    section (its first cell only)."""
    main = [row for row in progress.indicators if not INDICATORS[row.indicator.indicator_id].additional]
    additional = [row for row in progress.indicators if INDICATORS[row.indicator.indicator_id].additional]
    table = [_row(progress, row) for row in main]
    if additional:
        table.append(section_row(ADDITIONAL_SECTION))
        table += [_row(progress, row) for row in additional]
    return table


def section_row(title: str) -> Row:
    return (title, *[""] * (len(HEADINGS) - 1))


def _row(progress: Progress, row: IndicatorProgress) -> Row:
    indicator = row.indicator
    unit = indicator.unit
    return (
        indicator.indicator_id,
        indicator.name,
        _period(progress, row),
        INDICATORS[indicator.indicator_id].unit_label,
        _quantity(unit, indicator.floor),
        _quantity(unit, row.actual),
        _quantity(unit, row.previous),
        Quantity(row.growth, "rate"),
        Quantity(target_rate(indicator.growth_target), "rate"),
        _met(row),
    )


def _text(cell: str | Quantity) -> str:
    if isinstance(cell, str):
        return cell
    if cell.value is None:
        return ""
    if cell.kind == "yuan":
        return format_money(int(cell.value))
    if cell.kind == "rate":
        return f"{Decimal(cell.value) * 100:.2f}%"
    return str(cell.value)


def to_csv(progress: Progress) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    for row in rows(progress):
        writer.writerow([_text(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


_COLUMN_WIDTHS = (32, 40, 16, 6, 18, 18, 18, 10, 10, 10)


def to_xlsx(progress: Progress) -> bytes:
    """One sheet, written by XlsxWriter: a writer only, which keeps a report's memory (and the service's: no
    reader's object model, nor the numpy it imports) small."""
    buffer = io.BytesIO()
    # Every value is written by its kind below; no string is ever taken for a formula, a URL or a number.
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                            "strings_to_numbers": False})
    workbook.set_properties({
        "title": f"{progress.program.program.name} {progress.year}年度指标完成情况",
        "comments": f"数据截至 {progress.as_of or '（尚无数据）'}",
    })
    heading = workbook.add_format({"bold": True, "align": "center"})
    bold = workbook.add_format({"bold": True})
    kinds = {"yuan": workbook.add_format({"num_format": _MONEY_FORMAT}),
             "rate": workbook.add_format({"num_format": _PERCENT_FORMAT}), "count": None}
    as_text = workbook.add_format({"align": "right"})  # a figure too long for a number, as text
    sheet = workbook.add_worksheet(f"{progress.year}年")
    sheet.write_row(0, 0, HEADINGS, heading)
    for number, row in enumerate(rows(progress), start=1):
        if row == section_row(str(row[0])):  # a section's heading: its title alone, bold
            sheet.write_string(number, 0, str(row[0]), bold)
            continue
        for column, source in enumerate(row):
            value = _xlsx_value(source)
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(number, column, value, as_text if isinstance(source, Quantity) else None)
            else:
                assert isinstance(source, Quantity)
                sheet.write_number(number, column, value, kinds[source.kind])
    for column, width in enumerate(_COLUMN_WIDTHS):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


def _xlsx_value(cell: str | Quantity) -> Cell:
    if isinstance(cell, str):
        return cell
    if cell.value is None:
        return None
    number = Decimal(int(cell.value)).scaleb(-2) if cell.kind == "yuan" else Decimal(cell.value)
    if len(number.normalize().as_tuple().digits) > EXCEL_DIGITS:
        return _text(cell)  # the exact figure, as the CSV writes it, rather than a rounded number
    return number if cell.kind == "yuan" else cell.value
