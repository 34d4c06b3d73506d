"""Validate screening answers against a questionnaire and derive need profile and priority."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casework.workflow.definition import Question, Questionnaire


@dataclass(frozen=True)
class AnswerError:
    question_id: str
    code: str  # "required", "not_an_option", "not_a_number", "out_of_range", "not_boolean"


@dataclass(frozen=True)
class ScreeningResult:
    answers: dict[str, Any]
    need_profile: dict[str, int]  # need area -> score
    total_score: int
    priority: str


class InvalidAnswers(Exception):
    def __init__(self, errors: list[AnswerError]):
        self.errors = errors
        super().__init__(", ".join(f"{e.question_id}: {e.code}" for e in errors))


def _clean(question: Question, raw: Any) -> tuple[Any, int, str | None]:
    """Returns (clean value, score, error code)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, 0, "required" if question.required else None
    if question.type == "choice":
        for option in question.options:
            if option.value == str(raw):
                return option.value, option.score, None
        return None, 0, "not_an_option"
    if question.type == "boolean":
        if isinstance(raw, bool):
            value = raw
        elif str(raw).lower() in {"true", "yes", "1", "y", "si", "sì"}:
            value = True
        elif str(raw).lower() in {"false", "no", "0", "n"}:
            value = False
        else:
            return None, 0, "not_boolean"
        return value, question.score_if_true if value else 0, None
    if question.type in {"scale", "number"}:
        try:
            number = int(str(raw).strip())
        except ValueError:
            return None, 0, "not_a_number"
        if question.type == "scale":
            if not question.minimum <= number <= question.maximum:
                return None, 0, "out_of_range"
            return number, number - question.minimum, None
        return number, 0, None
    return str(raw).strip(), 0, None


def score_screening(questionnaire: Questionnaire, raw_answers: dict[str, Any]) -> ScreeningResult:
    answers: dict[str, Any] = {}
    profile = {area: 0 for area in questionnaire.need_areas}
    errors: list[AnswerError] = []
    for question in questionnaire.questions:
        value, score, error = _clean(question, raw_answers.get(question.id))
        if error:
            errors.append(AnswerError(question.id, error))
            continue
        if value is not None:
            answers[question.id] = value
            profile[question.need_area] += score
    if errors:
        raise InvalidAnswers(errors)
    total = sum(profile.values())
    priority = next(band.priority for band in questionnaire.priority_bands if total >= band.min_score)
    return ScreeningResult(answers=answers, need_profile=profile, total_score=total, priority=priority)
