"""The consumption chart of Расчеты: bars per month for each service, laid out and written
here as inline SVG (no JavaScript), with a sentence and a table as its text."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from babel.dates import format_date
from markupsafe import Markup, escape

from ..text import month_genitive_ru, month_ru, number_ru
from .finance import Consumption

# The drawing's own units (the SVG scales to the page's width).
WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 12, 28
PLOT = HEIGHT - TOP - BOTTOM  # the bars' greatest height
# A month label under every this many bars, counted from the latest.
LABEL_EVERY = 3
TICKS = 4


class Bar(NamedTuple):  # a page lays out a hundred: a tuple is built several times faster
    x: int
    y: int
    width: int
    height: int
    month: date
    text: str | None  # the volume as pages write it (None: none known), its tooltip and cell


@dataclass(frozen=True)
class Chart:
    """One service's bars, the value axis' ticks (y, text) and the month labels (x, text)."""

    name: str
    unit: str
    bars: list[Bar]
    ticks: list[tuple[int, str]]
    labels: list[tuple[int, str]]
    summary: str


def svg(chart: Chart, chart_id: str) -> Markup:
    """The chart as inline SVG, titled by the element ``{chart_id}-title`` and described by
    its summary; each bar has its month and volume as a tooltip. Written here rather than in
    the template: a page has a hundred bars and labels, and a template loop costs several times
    more."""
    unit = escape(chart.unit)
    grid = "".join(
        f'<line class="chart__grid" x1="{LEFT}" x2="{WIDTH}" y1="{y}" y2="{y}"/>'
        f'<text class="chart__tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">'
        f"{label}</text>"
        for y, label in chart.ticks
    )
    bars = "".join(
        f'<rect class="chart__bar" x="{bar.x}" y="{bar.y}" width="{bar.width}" '
        f'height="{bar.height}"><title>{month_ru(bar.month)}: {bar.text} {unit}</title></rect>'
        for bar in chart.bars
        if bar.text is not None
    )
    labels = "".join(
        f'<text class="chart__label" x="{x}" y="{HEIGHT - 8}" text-anchor="middle">{label}</text>'
        for x, label in chart.labels
    )
    # Escaped: the service's name and unit (the accounting system's data). Not escaped: the
    # numbers, months and tick labels text.py writes, which hold no markup characters.
    return Markup(  # noqa: S704
        f'<svg class="chart__svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" '
        f'focusable="false"><desc id="{chart_id}-desc">{escape(chart.summary)}</desc>'
        f"{grid}{bars}{labels}</svg>"
    )


def table_rows(charts: list["Chart"]) -> Markup:
    """The charts' volumes as rows of a table, latest month first: their text alternative,
    written here for the same reason as the bars."""
    rows = []
    for index in reversed(range(len(charts[0].bars))):
        cells = "".join(
            f'<td class="number">{chart.bars[index].text or "—"}</td>' for chart in charts
        )
        month = month_ru(charts[0].bars[index].month)
        rows.append(f'<tr><th scope="row">{month}</th>{cells}</tr>')
    return Markup("".join(rows))  # noqa: S704 - numbers and months by text.py: no markup


def nice_step(peak: Decimal, ticks: int = TICKS) -> Decimal:
    """A round step (1, 2 or 5 × 10ⁿ) so that ``ticks`` steps cover ``peak``."""
    raw = peak / ticks
    power = Decimal(10) ** raw.adjusted()
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power  # not reached: raw < 10 × power by construction


@lru_cache(maxsize=64)
def columns(count: int) -> tuple[tuple[int, int, int], ...]:
    """Where each of ``count`` bars stands: its left edge, its width and its middle, in whole
    units (the drawing is as wide as a phone's screen in pixels, so a unit is about a pixel);
    the same in every chart of a page."""
    slot = (WIDTH - LEFT - RIGHT) / count
    return tuple(
        (
            round(LEFT + index * slot + slot * 0.15),
            round(slot * 0.7),
            round(LEFT + index * slot + slot / 2),
        )
        for index in range(count)
    )


def layout(series: Consumption) -> Chart:
    """The bars and axes of one service's chart, in whole units."""
    count = len(series.months)
    peak = series.peak
    step = nice_step(peak) if peak > 0 else Decimal(1)
    scale = PLOT / float(step * TICKS)
    bars = []
    for (x, width, _), (month, volume) in zip(columns(count), series.months, strict=True):
        # At least a unit for any volume, so that a small one shows (and has its tooltip).
        height = max(1, round(float(volume) * scale)) if volume else 0
        text = None if volume is None else number_ru(volume)
        bars.append(Bar(x, TOP + PLOT - height, width, height, month, text))
    ticks = [(TOP + PLOT - PLOT * i // TICKS, number_ru(step * i)) for i in range(TICKS + 1)]
    labels = [
        (middle, short_month(month))
        for index, ((_, _, middle), (month, _)) in enumerate(
            zip(columns(count), series.months, strict=True)
        )
        if (count - 1 - index) % LABEL_EVERY == 0
    ]
    return Chart(series.name, series.unit, bars, ticks, labels, summary(series))


@lru_cache(maxsize=512)
def short_month(month: date) -> str:
    """«нояб. 26», under a bar."""
    return format_date(month, "LLL yy", locale="ru")


def summary(series: Consumption) -> str:
    """The chart in a sentence: its span, the mean, the peak and the latest month."""
    known = [(month, volume) for month, volume in series.months if volume is not None]
    first, last = series.months[0][0], series.months[-1][0]
    since = month_genitive_ru(first)
    text = f"{series.name}, {series.unit}, с {since} по {month_ru(last)}: "
    if not known:
        return text + "данных о потреблении нет."
    mean = sum(volume for _, volume in known) / len(known)
    peak_month, peak = max(known, key=lambda item: item[1])
    latest_month, latest = known[-1]
    return text + (
        f"в среднем {number_ru(mean)} в месяц; больше всего — {number_ru(peak)} "
        f"({month_ru(peak_month)}); {month_ru(latest_month)} — {number_ru(latest)}."
    )


def charts(series: list[Consumption]) -> list[Chart]:
    """A chart for each service of ``series``."""
    return [layout(one) for one in series]
