"""The procedure a case runs under (pure reads of a case): the copy taken at acceptance, or for a case
accepted before procedures were copied the one its own limit columns and step names describe.

The code reads step *kinds* (``CaseStep.kind``, ``StepRule.kind``) and the procedure's rules, never the
Chinese names people see: renaming a step's label changes nothing about what it does.
"""

from __future__ import annotations

import dataclasses

from onewindow.calendar.workdays import TimeUnit
from onewindow.cases.deadlines import Limits
from onewindow.cases.models import Case
from onewindow.catalog.procedure import (
    DEFAULT_DEFERRAL_WORKING_DAYS,
    Procedure,
    ProcedureError,
    StepKind,
    StepRule,
    procedure_of,
)

__all__ = ["bundle_procedure", "decision_index", "limits_of", "procedure_of_case", "step_rules"]


def procedure_of_case(case: Case) -> Procedure:
    """The case's procedure: its copy (``Case.procedure``), else derived from its limits and step names."""
    if case.procedure:
        return Procedure.from_json(case.procedure)
    derived = procedure_of(legal_days=max(case.legal_days, case.promised_days), promised_days=case.promised_days,
                           unit=case.limit_unit, steps=[s.name for s in case.steps])
    kinds = [s.kind for s in case.steps]
    if case.steps and len(derived.steps) == len(kinds) and all(kinds):
        # steps typed by the migration: their kinds win over the names
        try:
            return dataclasses.replace(derived, steps=tuple(
                dataclasses.replace(rule, kind=StepKind(str(kind))) for rule, kind in zip(derived.steps, kinds,
                                                                                           strict=True)))
        except (ProcedureError, ValueError):
            return derived
    return derived


def bundle_procedure(case: Case, *, deferral_working_days: int = DEFAULT_DEFERRAL_WORKING_DAYS) -> Procedure:
    """The procedure a bundle parent copies: the bundle's limits and the region's 容缺 days. Its steps
    (the catalog's default ones) are never given to the parent: the parent is completed by its sub-cases."""
    return procedure_of(legal_days=max(case.legal_days, case.promised_days), promised_days=case.promised_days,
                        unit=case.limit_unit, steps=(), deferral_working_days=deferral_working_days)


def limits_of(case: Case) -> Limits:
    """The limits the case was accepted under (its columns, copied with its procedure)."""
    return Limits(case.legal_days, case.promised_days, TimeUnit(case.limit_unit))


def step_rules(case: Case) -> list[StepRule]:
    """The rule of each of the case's steps, in order (kinds from the steps themselves when they have one)."""
    rules = list(procedure_of_case(case).steps)
    if len(rules) != len(case.steps):  # a copy that does not match the steps (hand-made data): by the steps
        rules = list(procedure_of(legal_days=max(case.legal_days, case.promised_days),
                                  promised_days=case.promised_days, unit=case.limit_unit,
                                  steps=[s.name for s in case.steps]).steps)[:len(case.steps)]
    out = []
    for rule, step in zip(rules, case.steps, strict=False):
        kind = StepKind(step.kind) if step.kind else rule.kind
        out.append(rule if kind is rule.kind else dataclasses.replace(rule, kind=kind))
    return out


def decision_index(case: Case) -> int:
    """The step that records the decision: the one of kind ``decide``, else the last; later steps (发证 …)
    follow the decision."""
    for i, rule in enumerate(step_rules(case)):
        if rule.kind is StepKind.DECIDE:
            return i
    return len(case.steps) - 1
