"""What the parser finds in a plan: plain dataclasses, no Django models (they are saved by
``tongban.plans.importing``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

# Problem kinds (stable: pages and the API show them, tests rely on them).
GAP = "gap"  # a number is skipped: (12) then (14)
DUPLICATE = "duplicate"  # a number appears twice
GARBLED = "garbled"  # broken brackets, "、等", a word printed twice…
REPEATED = "repeated"  # a passage copied from elsewhere, cut in the middle of a word
TRAILING_TEXT = "trailing_text"  # text after the plan (an interpretation 解读, an annex…)
LEADING_TEXT = "leading_text"  # text before part 一 (source line, issuer, preamble)

WARNING = "warning"  # shown in the preview; saving is allowed
ERROR = "error"  # saving is refused until the document is corrected


@dataclass
class Problem:
    kind: str
    severity: str
    message: str
    location: str = ""
    excerpt: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParsedSection:
    part_number: int
    number: int
    label: str  # as printed: "(一)" or "（一）"
    title: str
    body: str = ""  # the text of the section that is not a numbered task
    position: int = 0


@dataclass
class ParsedPart:
    number: int
    label: str  # "一、"
    title: str
    body: str = ""
    position: int = 0
    sections: list[ParsedSection] = field(default_factory=list)


@dataclass
class ParsedTask:
    number: int  # unique in the plan: the printed number, or the running count if numbering restarts
    label: str  # as printed: "(15)", "（3）", "2.", "（十二）"
    text: str
    part_number: int
    section_number: int | None
    deadline: date | None = None
    deadline_text: str = ""
    position: int = 0


@dataclass
class ParsedColumn:
    number: int
    title: str
    body: str
    part_number: int
    section_number: int | None
    position: int = 0


@dataclass
class Target:
    """One target of a development goal. Quantitative: comparator, value, unit (and a tolerance for
    左右); qualitative (达到省考核要求): comparator ``qualitative``, the requirement in ``requirement``."""

    indicator: str
    comparator: str
    value: Decimal | None
    unit: str
    year: int | None
    tolerance: Decimal | None = None
    requirement: str = ""
    source_text: str = ""

    @property
    def quantitative(self) -> bool:
        return self.value is not None

    def as_dict(self) -> dict:
        return {
            "indicator": self.indicator,
            "comparator": self.comparator,
            "value": None if self.value is None else _number(self.value),
            "unit": self.unit,
            "year": self.year,
            "tolerance": None if self.tolerance is None else _number(self.tolerance),
            "requirement": self.requirement,
            "source_text": self.source_text,
        }


def _number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass
class Goal:
    """A paragraph of the development goals (发展目标), with the targets found in it."""

    title: str
    text: str
    part_number: int
    section_number: int | None
    targets: list[Target] = field(default_factory=list)


@dataclass
class ParsedPlan:
    title: str = ""
    issuer: str = ""
    task_style: str = ""  # "paren" ((1)), "dot" (1.), "section" (（一） items are the tasks)
    parts: list[ParsedPart] = field(default_factory=list)
    tasks: list[ParsedTask] = field(default_factory=list)
    columns: list[ParsedColumn] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    leading_text: str = ""
    trailing_text: str = ""
    start_year: int | None = None
    end_year: int | None = None

    @property
    def sections(self) -> list[ParsedSection]:
        return [s for p in self.parts for s in p.sections]

    @property
    def targets(self) -> list[Target]:
        return [t for g in self.goals for t in g.targets]

    @property
    def quantitative_targets(self) -> list[Target]:
        return [t for t in self.targets if t.quantitative]

    @property
    def qualitative_targets(self) -> list[Target]:
        return [t for t in self.targets if not t.quantitative]

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)

    def tasks_per_part(self) -> list[int]:
        counts = {p.number: 0 for p in self.parts}
        for task in self.tasks:
            counts[task.part_number] = counts.get(task.part_number, 0) + 1
        return [counts[p.number] for p in self.parts]

    def summary(self) -> dict:
        """The structure summary printed by ``tongban plan import --dry-run --json``."""
        return {
            "title": self.title,
            "issuer": self.issuer,
            "start_year": self.start_year,
            "end_year": self.end_year,
            "task_style": self.task_style,
            "parts": len(self.parts),
            "part_titles": [p.title for p in self.parts],
            "sections": len(self.sections),
            "tasks": len(self.tasks),
            "tasks_per_part": self.tasks_per_part(),
            "columns": len(self.columns),
            "goals": len(self.goals),
            "targets": [
                {
                    k: v
                    for k, v in t.as_dict().items()
                    if k in ("indicator", "comparator", "value", "unit", "year")
                }
                | ({"tolerance": t.as_dict()["tolerance"]} if t.tolerance is not None else {})
                for t in self.quantitative_targets
            ],
            "qualitative_targets": [
                {"indicator": t.indicator, "requirement": t.requirement, "year": t.year}
                for t in self.qualitative_targets
            ],
            "deadlines": [
                {"task": t.number, "deadline": t.deadline.isoformat(), "text": t.deadline_text}
                for t in self.tasks
                if t.deadline
            ],
            "problems": [p.as_dict() for p in self.problems],
            "trailing_text_chars": len(self.trailing_text),
        }
