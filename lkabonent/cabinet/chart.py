"""The consumption chart of Расчеты: bars per month for each service, laid out here and drawn
by the template as inline SVG (no JavaScript), with a sentence and a table as its text."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from markupsafe import Markup, escape

from ..text import month_ru, number_ru
from .finance import Consumption

# The drawing's own units (the SVG scales to the page's width).
WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 12, 28
# A month label under every this many bars, counted from the latest.
LABEL_EVERY = 3
TICKS = 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    month: date
    volume: Decimal | None


@dataclass(frozen=True)
class Chart:
    """One service's bars, the value axis' ticks (y, text) and the month labels (x, text)."""

    name: str
    unit: str
    bars: list[Bar]
    ticks: list[tuple[float, str]]
    labels: list[tuple[float, str]]
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT


def bars_svg(chart: "Chart") -> Markup:
    """The bars as SVG, each with its month and volume as a tooltip: written here, as a page has
    a hundred of them and a template loop (or Markup.format) costs several times more."""
    unit = escape(chart.unit)
    bars = "".join(
        f'<rect class="chart__bar" x="{bar.x}" y="{bar.y}" width="{bar.width}" '
        f'height="{bar.height}"><title>{escape(month_ru(bar.month))}: '
        f"{escape(number_ru(bar.volume))} {unit}</title></rect>"
        for bar in chart.bars
        if bar.volume is not None
    )
    return Markup(bars)  # noqa: S704 - numbers, and text escaped above


def table_rows(charts: list["Chart"]) -> Markup:
    """The charts' volumes as rows of a table, latest month first: their text alternative,
    written here for the same reason as the bars."""
    rows = []
    for index in reversed(range(len(charts[0].bars))):
        # f-strings, not +: adding a str to Markup would escape the str.
        cells = "".join(
            f'<td class="number">{"—" if volume is None else escape(number_ru(volume))}</td>'
            for volume in (chart.bars[index].volume for chart in charts)
        )
        month = escape(month_ru(charts[0].bars[index].month))
        rows.append(f'<tr><th scope="row">{month}</th>{cells}</tr>')
    return Markup("".join(rows))  # noqa: S704 - numbers and months, escaped above


def nice_step(peak: Decimal, ticks: int = TICKS) -> Decimal:
    """A round step (1, 2 or 5 × 10ⁿ) so that ``ticks`` steps cover ``peak``."""
    raw = peak / ticks
    power = Decimal(10) ** raw.adjusted()
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power  # not reached: raw < 10 × power by construction


def layout(series: Consumption) -> Chart:
    """The bars and axes of one service's chart."""
    count = len(series.months)
    slot = (WIDTH - LEFT - RIGHT) / count
    plot = HEIGHT - TOP - BOTTOM
    step = nice_step(series.peak) if series.peak > 0 else Decimal(1)
    top = step * TICKS
    bars = []
    for index, (month, volume) in enumerate(series.months):
        height = float((volume or 0) / top) * plot
        bars.append(
            Bar(  # in tenths of a unit: finer than any screen shows
                x=round(LEFT + index * slot + slot * 0.15, 1),
                y=round(TOP + plot - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                month=month,
                volume=volume,
            )
        )
    ticks = [
        (round(TOP + plot - plot * i / TICKS, 1), number_ru(step * i)) for i in range(TICKS + 1)
    ]
    labels = [
        (round(LEFT + index * slot + slot / 2, 1), short_month(month))
        for index, (month, _) in enumerate(series.months)
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
    since = format_date(first, "MMMM y", locale="ru")  # genitive: «с ноября 2024»
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
    """A chart for each service whose volume varies."""
    return [layout(one) for one in series if one.varies]
