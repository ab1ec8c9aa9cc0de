"""Indicators (指标): observed values with source and date, and progress towards the target.

Progress follows Open SDG's method for targets, with the ratio of actual to expected progress:

- base = the first observation recorded (normally the plan's base year), current = the latest;
- target date = 31 December of the indicator's target year;
- actual progress = (current − base) / (target − base); for an "about" (左右) target, the share of the
  distance to the target closed: 1 − |current − target| / |base − target|;
- expected progress = (current date − base date) / (target date − base date), the share of time gone;
- ratio = actual / expected. 已达成 when the target is met (不低于: current ≥ target; 不高于: current ≤
  target; 左右: within the tolerance, 5 % of the target when none is given; 达到: reached from the
  base's side); otherwise 基本正常 when the ratio ≥ 0.95, 进展缓慢 when ≥ 0.5, 偏离目标 below
  (including a move away from the target); 数据不足 with fewer than two observations.

The same is computed for each year with observations (its last value), so the page shows the path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from tongban.core import audit
from tongban.core.errors import FieldError, Forbidden, InvalidInput, NotFound
from tongban.plans import access
from tongban.plans import error_codes as codes
from tongban.plans.constants import (
    DEFAULT_ABOUT_TOLERANCE_SHARE,
    PROGRESS_ON_TRACK_RATIO,
    PROGRESS_SLOW_RATIO,
    Comparator,
    IndicatorProgress,
)
from tongban.plans.models import Indicator, IndicatorObservation, Plan


def observation_record(
    *, actor, indicator: Indicator, value, observed_on: dt.date, source: str, note: str = ""
) -> IndicatorObservation:
    """The office records a value of an indicator as of a date, with its source."""
    if not access.can_manage_plans(actor):
        raise Forbidden(codes.TRACKING_FORBIDDEN, _("只有推进办可以录入指标数据。"))
    errors = []
    if indicator.comparator == Comparator.QUALITATIVE:
        raise InvalidInput(codes.OBSERVATION_INVALID, _("定性指标不录入数值。"))
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite() or abs(number) >= Decimal("1e14"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        number = None
        errors.append(FieldError("value", _("数值无效。"), codes.OBSERVATION_INVALID))
    from tongban.plans.reporting import today

    if not isinstance(observed_on, dt.date) or isinstance(observed_on, dt.datetime):
        errors.append(FieldError("observed_on", _("统计日期无效。"), codes.OBSERVATION_INVALID))
    elif observed_on > today():
        errors.append(FieldError("observed_on", _("统计日期不能晚于今天。"), codes.OBSERVATION_INVALID))
    source = (source or "").strip()
    if not source or len(source) > 255:
        errors.append(FieldError("source", _("请填写数据来源（不超过255字）。"), codes.OBSERVATION_INVALID))
    if len(note or "") > 255:
        errors.append(FieldError("note", _("备注不超过255字。"), codes.OBSERVATION_INVALID))
    if errors:
        raise InvalidInput(codes.OBSERVATION_INVALID, errors[0].message, errors=errors)
    with transaction.atomic():
        obs = IndicatorObservation.objects.create(
            indicator=indicator,
            value=number,
            observed_on=observed_on,
            source=source,
            note=(note or "").strip(),
            recorded_by=actor,
        )
        audit.record(
            actor=actor,
            action="plans.indicator_observation",
            target=obs,
            data={"indicator": indicator.pk, "value": str(number), "observed_on": observed_on.isoformat()},
        )
    return obs


def indicator_get(*, user, plan: Plan, indicator_id: int) -> Indicator:
    if not (access.can_view_all_plans(user) or getattr(user, "has_role", lambda r: False)("plan_reporter")):
        raise NotFound(codes.INDICATOR_NOT_FOUND, _("指标不存在。"))
    indicator = Indicator.objects.filter(plan=plan, pk=indicator_id).select_related("section").first()
    if indicator is None:
        raise NotFound(codes.INDICATOR_NOT_FOUND, _("指标不存在。"))
    return indicator


# --- Progress -------------------------------------------------------------------------------------


@dataclass
class Assessment:
    status: str
    explanation: str
    actual: float | None = None  # share of the way from base to target, 0–1 (may be < 0 or > 1)
    expected: float | None = None  # share of the time gone
    ratio: float | None = None
    as_of: dt.date | None = None
    value: Decimal | None = None

    @property
    def label(self) -> str:
        return str(IndicatorProgress(self.status).label)


@dataclass
class IndicatorView:
    indicator: Indicator
    observations: list[IndicatorObservation]
    base: IndicatorObservation | None
    latest: IndicatorObservation | None
    progress: Assessment
    by_year: list[tuple[int, Assessment]] = field(default_factory=list)

    @property
    def target_label(self) -> str:
        return target_label(self.indicator)


def target_label(ind: Indicator) -> str:
    if ind.comparator == Comparator.QUALITATIVE or ind.value is None:
        return ind.source_text[:80] or _("定性目标")
    tol = ""
    if ind.comparator == Comparator.ABOUT:
        tol = "±" + _num(_tolerance(ind))
    return f"{ind.year or ''}年{Comparator(ind.comparator).label} {_num(ind.value)}{tol}{ind.unit}"


def _num(x) -> str:
    if x is None:
        return "—"
    d = Decimal(x).normalize()
    return f"{d:f}"


def _tolerance(ind: Indicator) -> Decimal:
    if ind.tolerance is not None:
        return abs(ind.tolerance)
    return abs(ind.value) * Decimal(str(DEFAULT_ABOUT_TOLERANCE_SHARE))


def target_met(ind: Indicator, value: Decimal, base: Decimal | None = None) -> bool:
    t = ind.value
    if ind.comparator == Comparator.AT_LEAST:
        return value >= t
    if ind.comparator == Comparator.AT_MOST:
        return value <= t
    if ind.comparator == Comparator.ABOUT:
        return abs(value - t) <= _tolerance(ind)
    if ind.comparator == Comparator.EQUAL:
        return value <= t if (base is not None and base > t) else value >= t
    return False


def assess(
    ind: Indicator, base: IndicatorObservation | None, current: IndicatorObservation | None
) -> Assessment:
    """Progress of ``current`` from ``base`` towards the indicator's target (see the module)."""
    if ind.comparator == Comparator.QUALITATIVE or ind.value is None:
        return Assessment(IndicatorProgress.NO_DATA, _("定性指标，不计算量化进展。"))
    if current is None:
        return Assessment(IndicatorProgress.NO_DATA, _("尚无数据。"))
    t, v = ind.value, current.value
    unit = ind.unit
    if target_met(ind, v, base.value if base else None):
        return Assessment(
            IndicatorProgress.ACHIEVED,
            _("%(d)s 值 %(v)s%(u)s，已达到目标（%(t)s）。")
            % {"d": current.observed_on.isoformat(), "v": _num(v), "u": unit, "t": target_label(ind)},
            actual=1.0,
            as_of=current.observed_on,
            value=v,
        )
    if base is None or base.pk == current.pk or base.observed_on >= current.observed_on:
        return Assessment(
            IndicatorProgress.NO_DATA,
            _("只有一期数据（%(d)s 值 %(v)s%(u)s），至少两期数据才能计算进展。")
            % {"d": current.observed_on.isoformat(), "v": _num(v), "u": unit},
            as_of=current.observed_on,
            value=v,
        )
    b = base.value
    target_date = dt.date(ind.year or current.observed_on.year, 12, 31)
    span = (target_date - base.observed_on).days
    expected = 1.0 if span <= 0 else min(1.0, (current.observed_on - base.observed_on).days / span)
    if ind.comparator == Comparator.ABOUT:
        dist0 = abs(b - t)
        actual = float(1 - abs(v - t) / dist0) if dist0 else 0.0
        actual_text = _("1 − |%(v)s − %(t)s| / |%(b)s − %(t)s|") % {"v": _num(v), "t": _num(t), "b": _num(b)}
    else:
        actual = float((v - b) / (t - b)) if t != b else 0.0
        actual_text = f"({_num(v)} − {_num(b)}) / ({_num(t)} − {_num(b)})"
    ratio = actual / expected if expected > 0 else 0.0
    if ratio >= PROGRESS_ON_TRACK_RATIO:
        status = IndicatorProgress.ON_TRACK
    elif ratio >= PROGRESS_SLOW_RATIO:
        status = IndicatorProgress.SLOW
    else:
        status = IndicatorProgress.OFF_TRACK
    explanation = _(
        "基期 %(bd)s 值 %(b)s%(u)s，当前 %(cd)s 值 %(v)s%(u)s，目标 %(target)s。"
        "实际进展 = %(actual_text)s = %(actual)s%%；"
        "应有进展 = 已过时间 / 基期至目标年末时间 = %(e)s%%；"
        "比值 %(r)s（≥0.95 基本正常，≥0.5 进展缓慢，否则偏离目标）→ %(label)s。"
    ) % {
        "bd": base.observed_on.isoformat(),
        "b": _num(b),
        "u": unit,
        "cd": current.observed_on.isoformat(),
        "v": _num(v),
        "target": target_label(ind),
        "actual_text": actual_text,
        "actual": f"{actual * 100:.1f}",
        "e": f"{expected * 100:.1f}",
        "r": f"{ratio:.2f}",
        "label": IndicatorProgress(status).label,
    }
    return Assessment(status, explanation, actual, expected, ratio, current.observed_on, v)


def indicator_view(ind: Indicator, observations: list[IndicatorObservation] | None = None) -> IndicatorView:
    obs = observations if observations is not None else list(ind.observations.order_by("observed_on", "id"))
    base = obs[0] if obs else None
    latest = obs[-1] if obs else None
    by_year = []
    last_of_year: dict[int, IndicatorObservation] = {}
    for o in obs:
        last_of_year[o.observed_on.year] = o
    for year in sorted(last_of_year):
        by_year.append((year, assess(ind, base, last_of_year[year])))
    return IndicatorView(ind, obs, base, latest, assess(ind, base, latest), by_year)


def plan_indicator_views(plan: Plan) -> list[IndicatorView]:
    """Every indicator of the plan with its progress (two queries)."""
    indicators = list(Indicator.objects.filter(plan=plan).select_related("section").order_by("position"))
    by_ind: dict[int, list[IndicatorObservation]] = {}
    for o in IndicatorObservation.objects.filter(indicator__plan=plan).order_by("observed_on", "id"):
        by_ind.setdefault(o.indicator_id, []).append(o)
    return [indicator_view(i, by_ind.get(i.pk, [])) for i in indicators]


def chart_data(view: IndicatorView) -> dict:
    """What the page's ECharts line chart draws: the values by date and the target as a line."""
    ind = view.indicator
    return {
        "name": ind.name,
        "unit": ind.unit,
        "points": [[o.observed_on.isoformat(), float(o.value)] for o in view.observations],
        "target": float(ind.value)
        if ind.value is not None and ind.comparator != Comparator.QUALITATIVE
        else None,
        "target_label": target_label(ind),
        "target_date": f"{ind.year}-12-31" if ind.year else None,
    }
