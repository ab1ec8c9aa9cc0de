"""Parsing of action plans (pure Python, no Django models): structure, targets, deadlines, problems."""

from tongban.plans.parsing.model import ParsedPlan, Problem, Target
from tongban.plans.parsing.structure import parse_plan
from tongban.plans.parsing.targets import clause_target, paragraph_targets

__all__ = ["ParsedPlan", "Problem", "Target", "clause_target", "paragraph_targets", "parse_plan"]
