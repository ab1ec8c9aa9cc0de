"""ECharts options for the dashboards, built on the server from the selectors' figures.

The page embeds each option as JSON (``json_script``) next to an element ``data-chart``; the vendored
ECharts (``static/web/vendor/echarts``) draws it (``static/web/js/charts.js``). Every chart also has
a data table under it, for screen readers and for people who would rather read the numbers.
Colours are the dashboard palette below: distinguishable in grey scale and for common colour blindness.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

PALETTE = ["#1f5fa8", "#d9822b", "#2e8540", "#8e44ad", "#c0392b", "#5b6770", "#17a2b8", "#b8860b"]


def _base(**extra) -> dict:
    return {
        "color": PALETTE,
        "textStyle": {"fontFamily": "inherit"},
        "grid": {"left": 8, "right": 24, "top": 36, "bottom": 8, "containLabel": True},
        "tooltip": {"trigger": "axis"},
        "aria": {"enabled": True},
        **extra,
    }


def bar(*, labels: list[str], series: list[tuple[str, list]], horizontal: bool = False) -> dict:
    category = {"type": "category", "data": labels, "axisLabel": {"interval": 0}}
    value = {"type": "value", "minInterval": 1}
    return _base(
        legend={"top": 0} if len(series) > 1 else {"show": False},
        xAxis=value if horizontal else category,
        yAxis={**category, "inverse": True} if horizontal else value,
        series=[{"type": "bar", "name": name, "data": data} for name, data in series],
    )


def line(
    *, labels: list[str], series: list[tuple[str, list]], target: float | None = None, target_label=""
) -> dict:
    option = _base(
        legend={"top": 0},
        xAxis={"type": "category", "data": labels, "boundaryGap": False},
        yAxis={"type": "value"},
        series=[{"type": "line", "name": name, "data": data, "smooth": False} for name, data in series],
    )
    if target is not None:
        option["series"][0]["markLine"] = {
            "symbol": "none",
            "lineStyle": {"type": "dashed"},
            "label": {"formatter": target_label or _("目标")},
            "data": [{"yAxis": target}],
        }
    return option


def pie(*, items: list[tuple[str, int]]) -> dict:
    return _base(
        tooltip={"trigger": "item"},
        legend={"bottom": 0},
        series=[
            {
                "type": "pie",
                "radius": ["40%", "68%"],
                "data": [{"name": name, "value": value} for name, value in items],
                "label": {"formatter": "{b}: {c}"},
            }
        ],
    )


def flow_matrix(*, flows: list[dict], cities: list[str]) -> dict:
    """Cross-city flows as a matrix: receiving city (rows) → handling city (columns)."""
    index = {name: i for i, name in enumerate(cities)}
    data = [[index[f["target_name"]], index[f["source_name"]], f["cases"]] for f in flows]
    top = max((f["cases"] for f in flows), default=1)
    return _base(
        tooltip={"position": "top"},
        grid={"left": 8, "right": 24, "top": 28, "bottom": 72, "containLabel": True},
        xAxis={
            "type": "category",
            "data": cities,
            "name": _("办理地"),
            "nameLocation": "middle",
            "nameGap": 26,
            "splitArea": {"show": True},
        },
        yAxis={"type": "category", "data": cities, "name": _("受理地"), "splitArea": {"show": True}},
        visualMap={
            "min": 0,
            "max": top,
            "calculable": True,
            "orient": "horizontal",
            "left": "center",
            "bottom": 0,
            "inRange": {"color": ["#eef4fb", "#1f5fa8"]},
        },
        series=[{"type": "heatmap", "data": data, "label": {"show": True}}],
    )


def gauge(*, value: float | None, name: str) -> dict:
    return _base(
        tooltip={"show": False},
        series=[
            {
                "type": "gauge",
                "min": 0,
                "max": 100,
                "progress": {"show": True},
                "detail": {"formatter": "{value}%", "fontSize": 20, "offsetCenter": [0, "45%"]},
                "title": {"offsetCenter": [0, "80%"]},
                "data": [{"value": round((value or 0) * 100, 1), "name": name}],
            }
        ],
    )
