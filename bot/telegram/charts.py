"""The /stats chart: a PNG drawn with matplotlib's Agg backend (no display needed).

Three panels: answers per day over the last 30 days stacked by verdict, the accuracy trend,
and the due forecast. Only matplotlib's object API is used (no pyplot state), so charts can be
drawn in a worker thread while the bot keeps serving other users. No text users typed goes
into the picture, so no font can miss a glyph.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.core.scheduling import DayCounts, DueForecast

COLOURS = {"correct": "#2e9e5b", "partial": "#e0a526", "wrong": "#d2493b", "due": "#4a7bd0"}


def progress_png(
    days: Sequence[DayCounts], trend: Sequence[float | None], forecast: DueForecast
) -> bytes:
    """Draw the three panels and return the PNG's bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    figure = Figure(figsize=(8, 9), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    answers_axes, accuracy_axes, due_axes = figure.subplots(3, 1)
    positions = list(range(len(days)))
    labels = [f"{day.day.day} {day.day:%b}" for day in days]

    correct = [day.correct for day in days]
    partial = [day.partial for day in days]
    wrong = [day.wrong for day in days]
    answers_axes.bar(positions, correct, color=COLOURS["correct"], label="correct")
    answers_axes.bar(positions, partial, bottom=correct, color=COLOURS["partial"], label="partial")
    answers_axes.bar(
        positions,
        wrong,
        bottom=[a + b for a, b in zip(correct, partial, strict=True)],
        color=COLOURS["wrong"],
        label="wrong",
    )
    busiest = max((day.total for day in days), default=0)
    answers_axes.set_ylim(0, max(1, busiest) * 1.3)  # room for the legend above the bars
    answers_axes.set_title("Answers per day, last 30 days")
    answers_axes.legend(loc="upper left", frameon=False, ncols=3)
    answers_axes.yaxis.set_major_locator(MaxNLocator(integer=True))

    daily = [day.accuracy for day in days]
    accuracy_axes.plot(
        [x for x, value in zip(positions, daily, strict=True) if value is not None],
        [value for value in daily if value is not None],
        "o",
        color="#999999",
        markersize=4,
        label="that day",
    )
    accuracy_axes.plot(
        [x for x, value in zip(positions, trend, strict=True) if value is not None],
        [value for value in trend if value is not None],
        "-",
        color=COLOURS["correct"],
        linewidth=2,
        label="7-day average",
    )
    accuracy_axes.set_ylim(-0.05, 1.25)
    accuracy_axes.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    accuracy_axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    accuracy_axes.set_title("Accuracy (partial answers count half)")
    accuracy_axes.legend(loc="upper left", frameon=False, ncols=2)
    for axes in (answers_axes, accuracy_axes):
        axes.set_xlim(-0.6, len(days) - 0.4)
        step = max(1, len(days) // 10)
        axes.set_xticks(positions[::step], labels[::step])
        axes.grid(axis="y", alpha=0.3)

    due_labels = ["today", *(f"{day:%a} {day.day}" for day, _ in forecast.days)]
    due_counts = [forecast.today, *(count for _, count in forecast.days)]
    bars = due_axes.bar(range(len(due_counts)), due_counts, color=COLOURS["due"])
    due_axes.bar_label(bars, padding=2)
    due_axes.set_xticks(range(len(due_counts)), due_labels)
    due_axes.set_title(f"Cards due: {forecast.now} now, then the next {len(forecast.days)} days")
    due_axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    due_axes.set_ylim(0, max(1, *due_counts) * 1.2)
    due_axes.grid(axis="y", alpha=0.3)

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
