"""Indicator charts: accessible SVG with the numbers written on them, safe whatever the labels say."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markupsafe import Markup

from casework.reporting.charts import ChartText, chart_svg
from casework.reporting.report_tables import Column, Table

SVG = "{http://www.w3.org/2000/svg}"
TEXT = ChartText(no_data="Nessun dato per questo periodo.")


def breakdown(chart: str = "bars", rows=None) -> Table:
    return Table(
        key="gender", title="Persone raggiunte per genere",
        columns=(Column("code", "Codice"), Column("label", "Voce"), Column("count", "Numero", "count"),
                 Column("share", "Quota", "share")),
        rows=rows if rows is not None else (("female", "Donne", 4, 4 / 6), ("male", "Uomini", 2, 2 / 6),
                                            ("other", "Altro genere", 0, 0.0)),
        chart=chart,
    )


def trend() -> Table:
    return Table(
        key="trend", title="Andamento mensile",
        columns=(Column("month", "Mese (AAAA-MM)"), Column("label", "Mese"), Column("opened", "Patti aperti", "count"),
                 Column("closed", "Patti chiusi", "count"), Column("contacted", "Persone contattate", "count")),
        rows=(("2026-01", "gen 2026", 2, 1, 1), ("2026-02", "feb 2026", 1, 0, 2), ("2026-03", "mar 2026", 12, 4, 2)),
        chart="trend",
    )


def parsed(markup: Markup) -> ET.Element:
    return ET.fromstring(str(markup))


def words(svg: ET.Element) -> list[str]:
    """Every text drawn on the chart, line by line."""
    return ["".join(text.itertext()).strip() for text in svg.iter(f"{SVG}text")]


def bar_widths(svg: ET.Element) -> list[float]:
    return [float(rect.get("width")) for rect in svg.iter(f"{SVG}rect") if rect.get("height") == "22"]


def test_bars_are_an_image_with_a_title_a_summary_and_numbers_on_them():
    svg = parsed(chart_svg(breakdown(), locale="it", text=TEXT))
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    assert svg.find(f"{SVG}title").get("id") == title_id
    assert svg.find(f"{SVG}title").text == "Persone raggiunte per genere"
    # The summary reads the figures out, as Italians write them.
    assert svg.find(f"{SVG}desc").get("id") == desc_id
    assert svg.find(f"{SVG}desc").text == "Donne: 4 (66,7%); Uomini: 2 (33,3%); Altro genere: 0 (0%)"
    assert words(svg) == ["Donne", "4 (66,7%)", "Uomini", "2 (33,3%)", "Altro genere", "0 (0%)"]
    # Bar lengths follow the counts: the largest fills the room, half of it is half as long, none is empty.
    widths = bar_widths(svg)
    assert widths[0] > 0 and widths[1] == widths[0] / 2 and widths[2] == 0


def test_numbers_follow_the_readers_language():
    svg = parsed(chart_svg(breakdown(rows=(("female", "Women", 1234, 0.125),)), locale="en", text=TEXT))
    assert "1,234 (12.5%)" in words(svg)
    svg = parsed(chart_svg(breakdown(rows=(("female", "Donne", 1234, 0.125),)), locale="it", text=TEXT))
    assert "1.234 (12,5%)" in words(svg)


def test_a_funnel_centres_bars_that_shrink_with_each_stage():
    table = Table(
        key="funnel", title="Fasi raggiunte",
        columns=(Column("label", "Voce"), Column("count", "Patti", "count"), Column("share", "Quota", "share")),
        rows=(("Segnalazione", 5, 1.0), ("Screening", 4, 0.8), ("Chiuso", 1, 0.2)), chart="funnel",
    )
    svg = parsed(chart_svg(table, locale="it", text=TEXT))
    bars = [rect for rect in svg.iter(f"{SVG}rect") if rect.get("height") == "22"]
    widths = [float(bar.get("width")) for bar in bars]
    assert widths == sorted(widths, reverse=True) and widths[1] == widths[0] * 4 / 5
    centres = {round(float(bar.get("x")) + float(bar.get("width")) / 2, 1) for bar in bars}
    assert len(centres) == 1
    assert "1 (20%)" in words(svg)


def test_a_trend_draws_every_month_and_series_with_its_numbers_and_a_legend():
    svg = parsed(chart_svg(trend(), locale="it", text=TEXT))
    drawn = words(svg)
    assert drawn[:3] == ["Patti aperti", "Patti chiusi", "Persone contattate"]  # the legend
    # Each month: its three values, each over its bar, then the month's name under them.
    assert drawn[3:] == ["2", "1", "1", "gen 2026", "1", "0", "2", "feb 2026", "12", "4", "2", "mar 2026"]
    assert "gen 2026: Patti aperti 2, Patti chiusi 1, Persone contattate 1" in svg.find(f"{SVG}desc").text
    # Series differ by pattern, not by colour alone: solid, hatched and dotted fills.
    legend_fills = [rect.get("fill") for rect in svg.iter(f"{SVG}rect") if rect.get("height") == "14.0"]
    assert legend_fills == ["#003366", "url(#chart-trend-hatch)", "url(#chart-trend-dots)"]
    assert {pattern.get("id") for pattern in svg.iter(f"{SVG}pattern")} == {"chart-trend-hatch", "chart-trend-dots"}


def test_labels_are_escaped_and_nothing_needs_an_inline_style_or_script():
    hostile = breakdown(rows=(("x", '<script>alert("x")</script> & "Co"', 3, 1.0),))
    markup = chart_svg(hostile, locale="it", text=TEXT)
    assert isinstance(markup, Markup)
    assert "<script>" not in str(markup) and "&lt;script&gt;" in str(markup)
    assert words(parsed(markup))[0] == '<script>alert("x")</script> & "Co"'
    for chart in (markup, chart_svg(trend(), locale="it", text=TEXT)):
        assert "style=" not in str(chart) and "<script" not in str(chart)


def test_an_empty_table_says_there_is_no_data_and_a_table_without_a_chart_draws_nothing():
    svg = parsed(chart_svg(breakdown(rows=()), locale="it", text=TEXT))
    assert svg.get("role") == "img" and words(svg) == ["Nessun dato per questo periodo."]
    assert chart_svg(breakdown(chart=""), locale="it", text=TEXT) == Markup("")
    zeros = parsed(chart_svg(breakdown(rows=(("female", "Donne", 0, None),)), locale="it", text=TEXT))
    assert words(zeros) == ["Donne", "0"] and bar_widths(zeros) == [0.0]


def test_a_kept_table_is_drawn_once_and_another_table_anew():
    kept = breakdown()
    first = chart_svg(kept, locale="it", text=TEXT)
    assert chart_svg(kept, locale="it", text=TEXT) is first
    # Another table, even with the same figures, and another language or wording are drawn anew.
    fewer = breakdown(rows=(("female", "Donne", 1, 1.0),))
    assert chart_svg(fewer, locale="it", text=TEXT) != first
    assert chart_svg(breakdown(), locale="it", text=TEXT) == first
    assert chart_svg(breakdown(), locale="it", text=TEXT) is not first
    assert chart_svg(kept, locale="en", text=TEXT) is not first
    assert chart_svg(kept, locale="it", text=ChartText(no_data="No data.")) is not first
