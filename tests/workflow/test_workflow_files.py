"""Workflow files: the shipped ones load; every broken one is reported with file, line and cause."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from casework import PROJECT_ROOT
from casework.cli import main
from casework.clock import Clock
from casework.errors import TransitionRefused
from casework.models import TransitionRecord
from casework.pacts import operations as ops
from casework.web import create_app
from casework.workflow.engine import WorkflowRegistry
from casework.workflow.loader import WorkflowFileError, check_directory, load_workflow_file
from tests.conftest import ZONE
from tests.support import advance

SHIPPED = PROJECT_ROOT / "workflows"

# A small valid workflow. Each test breaks one thing in it; comments mark the lines the
# problems must point at.
BASE = """\
name: mini
version: 1
label: {it: Mini, en: Mini}
initial: open  # <initial>

states:
  open:  # <state open>
    label: {it: Aperto, en: Open}
    deadlines:
      - id: first_contact
        label: {it: Primo contatto, en: First contact}
        in: 5  # <in>
        unit: working_days  # <unit>
        from: entered  # <anchor>
  review:  # <state review>
    label: {it: Verifica, en: Review}  # <review label>
  done:  # <state done>
    label: {it: Fatto, en: Done}
    final: true  # <final>

events:
  start:  # <event start>
    label: {it: Avvia, en: Start}
    from: open  # <start from>
    to: review
    guards: [has_referral]
  back:
    label: {it: Torna indietro, en: Go back}
    from: review
    to: open  # <back to>
  finish:
    label: {it: Chiudi, en: Finish}
    from: review
    to: done
    guards: [has_outcome]  # <finish guards>

outcomes:
  ok: {label: {it: Riuscito, en: Succeeded}}

questionnaire:
  need_areas:
    lavoro: {label: {it: Lavoro, en: Work}}
    casa: {label: {it: Casa, en: Housing}}
  sections:
    - id: main
      label: {it: Principale, en: Main}
      questions:
        - id: occupazione  # <question occupazione>
          label: {it: Occupazione, en: Employment}
          type: choice
          need_area: lavoro
          options:
            - {value: stabile, label: {it: Stabile, en: Stable}, score: 0}
            - {value: nessuna, label: {it: Nessuna, en: Unemployed}, score: 3}  # <second option>
        - id: sfratto  # <question sfratto>
          label: {it: Sfratto in corso, en: Eviction under way}
          type: boolean
          need_area: casa  # <need area>
          score_if_true: 4
  priority:
    - {min_score: 0, priority: low}
    - {min_score: 4, priority: high}
"""


def line_of(text: str, marker: str) -> int:
    """1-based number of the only line of `text` holding `marker`."""
    found = [number for number, line in enumerate(text.splitlines(), start=1) if marker in line]
    assert len(found) == 1, f"{marker!r} is on lines {found}"
    return found[0]


def edit(text: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def write(directory: Path, text: str, name: str = "mini.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_in(path: Path) -> list[tuple[Path, int, str]]:
    with pytest.raises(WorkflowFileError) as error:
        load_workflow_file(path)
    return [(p.file, p.line, p.message) for p in error.value.problems]


def assert_reported(path: Path, text: str, expected: list[tuple[str, list[str]]]) -> None:
    """Exactly the expected problems: each at its marker's line, its message naming the cause."""
    problems = problems_in(path)
    assert len(problems) == len(expected), problems
    remaining = list(problems)
    for marker, words in expected:
        line = line_of(text, marker)
        match = [p for p in remaining if p[1] == line and all(w in p[2] for w in words)]
        assert match, f"no problem at line {line} naming {words}: {problems}"
        assert match[0][0] == path
        remaining.remove(match[0])


# --- the shipped files ------------------------------------------------------------------

def test_the_base_example_is_valid(tmp_path):
    definition = load_workflow_file(write(tmp_path, BASE))
    assert (definition.name, definition.version, definition.initial) == ("mini", 1, "open")
    assert definition.final_states == {"done"}


def test_shipped_files_load_without_problems():
    definitions, problems = check_directory(SHIPPED)
    assert problems == []
    assert sorted((d.name, d.version) for d in definitions) == [
        ("chance_dispersione", 1), ("patto_personalizzato", 1)]
    for definition in definitions:
        assert definition.questionnaire is not None and definition.questionnaire.questions
        assert definition.outcomes
        for labels in [definition.label, *(s.label for s in definition.states.values()),
                       *(e.label for e in definition.events.values())]:
            assert set(labels) == {"it", "en"} and all(text.strip() for text in labels.values())


def test_shipped_option_values_are_the_words_written_in_the_file():
    definitions, _ = check_directory(SHIPPED)
    values = {o.value for d in definitions for q in d.questionnaire.questions for o in q.options}
    assert "no" in values
    assert not values & {"True", "False"}


# --- one problem of each kind, at its line ----------------------------------------------

CASES = {
    "unknown state in from": (
        [("    from: open  # <start from>", "    from: [open, opne]  # <start from>")],
        [("# <start from>", ["unknown state 'opne'", "'from'"])],
    ),
    "unknown state in to": (
        [("    to: open  # <back to>", "    to: opne  # <back to>")],
        [("# <back to>", ["unknown state 'opne'", "'to'"])],
    ),
    "unknown initial state": (
        [("initial: open  # <initial>", "initial: opne  # <initial>")],
        [("# <initial>", ["initial state 'opne'", "not a declared state"])],
    ),
    "unreachable state": (
        [("  done:  # <state done>", "  archived:  # <state archived>\n"
                                     "    label: {it: Archiviato, en: Archived}\n"
                                     "  done:  # <state done>"),
         ("\noutcomes:", "  unarchive:\n"
                         "    label: {it: Ripristina, en: Restore}\n"
                         "    from: archived\n"
                         "    to: review\n"
                         "\noutcomes:")],
        [("# <state archived>", ["unreachable state 'archived'"])],
    ),
    "dead end that is not final": (
        [("  done:  # <state done>", "  limbo:  # <state limbo>\n"
                                     "    label: {it: Limbo, en: Limbo}\n"
                                     "  done:  # <state done>"),
         ("\noutcomes:", "  park:\n"
                         "    label: {it: Parcheggia, en: Park}\n"
                         "    from: review\n"
                         "    to: limbo\n"
                         "\noutcomes:")],
        [("# <state limbo>", ["dead end", "'limbo'", "not marked final"])],
    ),
    "final state that is a dead end is fine, a final state made non-final is not": (
        [("    final: true  # <final>", "    final: false  # <final>")],
        [("# <state done>", ["dead end", "'done'"])],
    ),
    "unknown guard": (
        [("    guards: [has_outcome]  # <finish guards>", "    guards: [has_outcome, has_cofee]  # <finish guards>")],
        [("# <finish guards>", ["unknown guard 'has_cofee'", "event 'finish'"])],
    ),
    "guard given as code rather than a name": (
        [("    guards: [has_outcome]  # <finish guards>", "    guards: [os.system]  # <finish guards>")],
        [("# <finish guards>", ["unknown guard 'os.system'"])],
    ),
    "deadline met when an unknown guard holds": (
        [("        from: entered  # <anchor>", "        from: entered  # <anchor>\n        met_when: has_cofee  # <met>")],
        [("# <met>", ["bad deadline", "'first_contact'", "'met_when' must be one of", "'has_cofee'"])],
    ),
    "deadline met when a guard about the move's words holds": (
        [("        from: entered  # <anchor>", "        from: entered  # <anchor>\n        met_when: has_comment  # <met>")],
        [("# <met>", ["'met_when' must be one of", "'has_comment'"])],
    ),
    "deadline with a bad unit": (
        [("        unit: working_days  # <unit>", "        unit: weeks  # <unit>")],
        [("# <unit>", ["bad deadline", "'first_contact'", "unit must be one of", "'weeks'"])],
    ),
    "deadline of zero": (
        [("        in: 5  # <in>", "        in: 0  # <in>")],
        [("# <in>", ["bad deadline", "'first_contact'", "'in'", ">= 1", "0"])],
    ),
    "deadline of a negative amount": (
        [("        in: 5  # <in>", "        in: -3  # <in>")],
        [("# <in>", ["bad deadline", "'in'", "-3"])],
    ),
    "deadline amount that is not a number": (
        [("        in: 5  # <in>", "        in: five  # <in>")],
        [("# <in>", ["bad deadline", "'in'", "'five'"])],
    ),
    "deadline from an unknown anchor": (
        [("        from: entered  # <anchor>", "        from: yesterday  # <anchor>")],
        [("# <anchor>", ["bad deadline", "'from'", "'yesterday'"])],
    ),
    "deadline from entering an undeclared state": (
        [("        from: entered  # <anchor>", '        from: "entered:nowhere"  # <anchor>')],
        [("# <anchor>", ["bad deadline", "'entered:nowhere'"])],
    ),
    "deadline on a final state": (
        [("    final: true  # <final>", "    final: true  # <final>\n"
                                         "    deadlines:  # <final deadlines>\n"
                                         "      - {id: archive, label: {it: Archivia, en: Archive}, in: 3}")],
        [("# <final deadlines>", ["bad deadline", "final state 'done'"])],
    ),
    "question without a need area": (
        [("          need_area: casa  # <need area>\n", "")],
        [("# <question sfratto>", ["question 'sfratto'", "no need area"])],
    ),
    "need area not declared": (
        [("          need_area: casa  # <need area>", "          need_area: salute  # <need area>")],
        [("# <need area>", ["question 'sfratto'", "need area 'salute'", "not declared"])],
    ),
    "choice with fewer than two options": (
        [("            - {value: nessuna, label: {it: Nessuna, en: Unemployed}, score: 3}  # <second option>\n", "")],
        [("# <question occupazione>", ["question 'occupazione'", "at least two options"])],
    ),
    "unknown key in an event (typo)": (
        [("    guards: [has_outcome]  # <finish guards>", "    gaurds: [has_outcome]  # <finish guards>")],
        [("# <finish guards>", ["unknown key 'gaurds'", "event 'finish'", "guards"])],
    ),
    "unknown key at the top (typo)": (
        [("\noutcomes:", "\noutcome:  # <typo>")],
        [("# <typo>", ["unknown key 'outcome'", "outcomes"])],
    ),
    "unknown key in a deadline (typo)": (
        [("        in: 5  # <in>", "        in: 5  # <in>\n        remind_before: 2  # <typo>")],
        [("# <typo>", ["unknown key 'remind_before'", "remind_before_days"])],
    ),
    "label missing a language": (
        [("    label: {it: Verifica, en: Review}  # <review label>", "    label: {it: Verifica}  # <review label>")],
        [("# <review label>", ["state 'review'", "no 'en' text"])],
    ),
    "label given as a single text": (
        [("    label: {it: Verifica, en: Review}  # <review label>", "    label: Verifica  # <review label>")],
        [("# <review label>", ["state 'review'", "text per language"])],
    ),
    "unquoted comma inside a label": (
        [("    label: {it: Verifica, en: Review}  # <review label>",
          "    label: {it: Verifica, in corso, en: Review}  # <review label>")],
        [("# <review label>", ["'in corso' is not a language", "quote texts holding ','"])],
    ),
    "invalid YAML syntax": (
        [("initial: open  # <initial>", "initial: open: now  # <initial>")],
        [("# <initial>", ["not valid YAML", "mapping values are not allowed"])],
    ),
    "unquoted question mark inside a label is a YAML error": (
        [("    label: {it: Verifica, en: Review}  # <review label>",
          "    label: {it: Tutto bene?, en: All well?}  # <review label>")],
        [("# <review label>", ["not valid YAML", "'?'"])],
    ),
    "a newline inside a label (it would end up in an e-mail subject)": (
        [("    label: {it: Verifica, en: Review}  # <review label>",
          '    label: {it: "Verifica\\nin corso", en: Review}  # <review label>')],
        [("# <review label>", ["state 'review'", "'it'", "control character", "'\\n'"])],
    ),
    "a tab or a DEL inside a deadline's label": (
        [("        label: {it: Primo contatto, en: First contact}",
          '        label: {it: "Primo\\tcontatto", en: "First\\x7fcontact"}  # <deadline label>')],
        [("# <deadline label>", ["'it'", "control character", "'\\t'"]),
         ("# <deadline label>", ["'en'", "control character", "'\\x7f'"])],
    ),
    "a tab in the indentation": (
        [("initial: open  # <initial>", "\tinitial: open  # <initial>")],
        [("# <initial>", ["not valid YAML", "'\\t'"])],
    ),
}


@pytest.mark.parametrize("replacements,expected", list(CASES.values()), ids=list(CASES))
def test_each_problem_is_reported_with_file_line_and_cause(tmp_path, replacements, expected):
    text = edit(BASE, *replacements)
    assert_reported(write(tmp_path, text), text, expected)


def test_duplicate_event_is_reported_at_the_second_definition(tmp_path):
    text = edit(BASE, ("\noutcomes:", "  start:  # <second start>\n"
                                      "    label: {it: Avvia, en: Start}\n"
                                      "    from: open\n"
                                      "    to: review\n"
                                      "\noutcomes:"))
    first = line_of(text, "# <event start>")
    assert_reported(write(tmp_path, text), text,
                    [("# <second start>", ["duplicate key 'start'", f"first defined at line {first}"])])


def test_quoted_texts_with_commas_and_question_marks_are_fine(tmp_path):
    text = edit(BASE, ("    label: {it: Verifica, en: Review}  # <review label>",
                       '    label: {it: "Tutto bene, davvero?", en: "All well, really?"}'))
    definition = load_workflow_file(write(tmp_path, text))
    assert definition.states["review"].label == {"it": "Tutto bene, davvero?", "en": "All well, really?"}


def test_several_problems_in_one_file_are_all_reported(tmp_path):
    text = edit(
        BASE,
        ("        unit: working_days  # <unit>", "        unit: weeks  # <unit>"),
        ("    guards: [has_outcome]  # <finish guards>", "    guards: [has_cofee]  # <finish guards>"),
        ("          need_area: casa  # <need area>", "          need_area: salute  # <need area>"),
        ("    to: open  # <back to>", "    to: opne  # <back to>"),
        ("    label: {it: Verifica, en: Review}  # <review label>", "    label: {it: Verifica}  # <review label>"),
    )
    assert_reported(write(tmp_path, text), text, [
        ("# <unit>", ["unit must be one of"]),
        ("# <finish guards>", ["unknown guard 'has_cofee'"]),
        ("# <need area>", ["need area 'salute'"]),
        ("# <back to>", ["unknown state 'opne'"]),
        ("# <review label>", ["no 'en' text"]),
    ])


def test_missing_language_message_names_the_label_key(tmp_path):
    text = edit(BASE, ("    label: {it: Verifica, en: Review}  # <review label>", "    label: {it: Verifica}"))
    [(_, _, message)] = problems_in(write(tmp_path, text))
    assert "'label' has no 'en' text" in message


def test_an_option_value_that_yaml_reads_as_a_boolean_is_reported(tmp_path):
    text = edit(BASE, ("{value: nessuna,", "{value: no,"))
    problems_in(write(tmp_path, text))


def test_a_list_as_target_state_is_reported_not_a_crash(tmp_path):
    text = edit(BASE, ("    to: open  # <back to>", "    to: [open, done]  # <back to>"))
    [(_, line, message)] = problems_in(write(tmp_path, text))
    assert line == line_of(text, "# <back to>") and "'to'" in message


# --- the folder -------------------------------------------------------------------------

def _two_versions(directory: Path) -> None:
    write(directory, BASE, "mini_v1.yaml")
    write(directory, edit(BASE, ("version: 1", "version: 2"),
                          ("    label: {it: Verifica, en: Review}  # <review label>",
                           "    label: {it: Revisione, en: Revision}")), "mini_v2.yaml")


def test_a_new_version_is_a_new_file_and_the_old_one_stays_available(tmp_path):
    _two_versions(tmp_path)
    registry = WorkflowRegistry.from_directory(tmp_path)
    assert registry.latest("mini").version == 2
    assert registry.get("mini", 1).definition.states["review"].label["en"] == "Review"
    assert registry.get("mini", 2).definition.states["review"].label["en"] == "Revision"


def test_two_files_with_the_same_name_and_version_are_reported(tmp_path):
    first = write(tmp_path, BASE, "a_mini.yaml")
    second = write(tmp_path, BASE, "b_mini.yaml")
    definitions, problems = check_directory(tmp_path)
    assert [d.source for d in definitions] == [first]
    [problem] = problems
    assert (problem.file, problem.line) == (second, line_of(BASE, "name: mini"))
    assert "'mini' version 1" in problem.message and str(first) in problem.message


def test_problems_in_one_file_do_not_hide_the_others(tmp_path):
    write(tmp_path, BASE, "good.yaml")
    bad_a = write(tmp_path, edit(BASE, ("name: mini", "name: mini_a"), ("unit: working_days", "unit: weeks")), "bad_a.yaml")
    bad_b = write(tmp_path, edit(BASE, ("name: mini", "name: mini_b"), ("initial: open ", "initial: opne ")), "bad_b.yaml")
    definitions, problems = check_directory(tmp_path)
    assert [d.name for d in definitions] == ["mini"]
    assert [p.file for p in problems] == [bad_a, bad_b]


def _bad_directory(tmp_path: Path) -> tuple[Path, str, list[tuple[Path, int, str]]]:
    directory = tmp_path / "workflows"
    text = edit(BASE, ("        unit: working_days  # <unit>", "        unit: weeks  # <unit>"),
                ("    guards: [has_outcome]  # <finish guards>", "    guards: [has_cofee]  # <finish guards>"))
    path = write(directory, text)
    return directory, text, problems_in(path)


def test_cli_check_prints_each_problem_as_file_line_message_and_exits_1(tmp_path):
    directory, text, problems = _bad_directory(tmp_path)
    result = CliRunner().invoke(main, ["workflows", "check", "--dir", str(directory)])
    assert result.exit_code == 1
    reported = result.stderr.splitlines()
    assert len(problems) == 2
    for file, line, message in problems:
        assert f"{file}:{line}: {message}" in reported
    assert f"{directory / 'mini.yaml'}:{line_of(text, '# <unit>')}: " in result.stderr
    assert f"{directory / 'mini.yaml'}:{line_of(text, '# <finish guards>')}: " in result.stderr
    assert "2 problem(s) found" in result.stderr


def test_cli_check_refuses_a_label_with_a_newline_at_its_line(tmp_path):
    directory = tmp_path / "workflows"
    text = edit(BASE, ("    label: {it: Avvia, en: Start}",
                       '    label: {it: "Avvia\\r\\nBcc: x@example.org", en: Start}  # <start label>'))
    write(directory, text)
    result = CliRunner().invoke(main, ["workflows", "check", "--dir", str(directory)])
    assert result.exit_code == 1
    assert (f"{directory / 'mini.yaml'}:{line_of(text, '# <start label>')}: event 'start': 'label' 'it' holds "
            "a control character ('\\r')") in result.stderr
    assert "1 problem(s) found" in result.stderr


def test_cli_check_uses_the_configured_folder(tmp_path):
    directory, _, _ = _bad_directory(tmp_path)
    result = CliRunner(env={"CASEWORK_WORKFLOWS_PATH": str(directory)}).invoke(main, ["workflows", "check"])
    assert result.exit_code == 1
    assert f"{directory / 'mini.yaml'}:" in result.stderr


def test_cli_check_accepts_the_shipped_folder(tmp_path):
    result = CliRunner().invoke(main, ["workflows", "check", "--dir", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "ok chance_dispersione.yaml: chance_dispersione v1" in result.stdout
    assert "ok patto_personalizzato.yaml: patto_personalizzato v1" in result.stdout


def test_the_application_refuses_to_start_with_an_invalid_workflow(tmp_path):
    directory, _, problems = _bad_directory(tmp_path)
    with pytest.raises(WorkflowFileError) as error:
        create_app(overrides={"workflows_path": str(directory), "instance_path": str(tmp_path / "instance"),
                              "database_url": "sqlite:///" + str(tmp_path / "x.sqlite3"), "env": "testing"})
    assert [(p.file, p.line, p.message) for p in error.value.problems] == problems


def test_the_application_starts_with_the_shipped_workflows(tmp_path):
    app = create_app(overrides={"workflows_path": str(SHIPPED), "instance_path": str(tmp_path / "instance"),
                                "database_url": "sqlite:///" + str(tmp_path / "x.sqlite3"), "env": "testing",
                                "secret_key": "k" * 40})
    try:
        assert app.extensions["casework"]["registry"].names() == ["chance_dispersione", "patto_personalizzato"]
    finally:
        app.extensions["casework"]["engine"].dispose()


# --- the second shipped workflow, driven end to end --------------------------------------

CHANCE = "chance_dispersione"


class _Ticking:
    """A clock that moves one day per step, so contacts and records follow each other."""

    def __init__(self, start: Clock):
        self.clock = start

    def next(self) -> Clock:
        self.clock = Clock(self.clock.now + timedelta(days=1), ZONE)
        return self.clock


def _history(session, pact) -> list[tuple[str, str | None, str]]:
    records = session.scalars(
        select(TransitionRecord).where(TransitionRecord.pact_id == pact.id).order_by(TransitionRecord.id))
    return [(r.event, r.from_state, r.to_state) for r in records]


def test_chance_main_path_with_both_loops(session, registry, world, clock):
    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.chance,
                         case_manager=world.manager, actor=world.manager, clock=clock)
    session.commit()
    assert (pact.workflow_name, pact.workflow_version, pact.state) == (CHANCE, 1, "referral")
    # Monday 2 March 2026 + 5 working days = Monday 9 March, end of day in Rome (UTC+1).
    assert pact.next_deadline_label == "equipe_submission_due"
    assert pact.next_deadline_at.isoformat() == "2026-03-09T22:59:59.999999+00:00"

    ticking = _Ticking(clock)
    advance(session, registry, pact, "submit_to_equipe", world.manager, ticking.next())
    assert (pact.state, pact.next_deadline_label) == ("equipe_review", "equipe_decision_due")

    # Loop 1: the équipe asks the referrer for more information, the case comes back.
    with pytest.raises(TransitionRefused) as refused:
        ops.transition_pact(session, registry, pact, "request_information", actor=world.manager,
                            clock=ticking.next())
    session.rollback()
    assert refused.value.messages("en") == ["a reason is required"]
    advance(session, registry, pact, "request_information", world.manager, ticking.next())
    assert (pact.state, pact.next_deadline_label) == ("referral", "equipe_submission_due")
    advance(session, registry, pact, "submit_to_equipe", world.manager, ticking.next())
    assert pact.state == "equipe_review"

    # Taking the case in needs an équipe.
    version = pact.version
    with pytest.raises(TransitionRefused) as refused:
        ops.transition_pact(session, registry, pact, "take_in", actor=world.manager, clock=ticking.next())
    session.rollback()
    assert refused.value.messages("en") == ["the case has no équipe members yet"]
    assert refused.value.messages("it") == ["il caso non ha ancora un'équipe"]
    session.expire_all()
    assert (pact.state, pact.version) == ("equipe_review", version)

    for event, state, deadline in [
        ("take_in", "engagement", "project_start_due"),
        ("start_project", "individual_project", "project_signature_due"),
        ("start_accompaniment", "accompaniment", "tutor_contact"),
        ("verify", "verification", "verification_outcome_due"),
        # Loop 2: the verification extends the accompaniment, then verifies again.
        ("extend", "accompaniment", "tutor_contact"),
        ("verify", "verification", "verification_outcome_due"),
        ("close", "closed", ""),
    ]:
        advance(session, registry, pact, event, world.manager, ticking.next())
        assert (pact.state, pact.next_deadline_label) == (state, deadline), event
    assert pact.members and pact.screenings and pact.contacts and pact.outcome is not None
    assert pact.closed_at == ticking.clock.now and pact.next_deadline_at is None

    assert _history(session, pact) == [
        ("open", None, "referral"),
        ("submit_to_equipe", "referral", "equipe_review"),
        ("request_information", "equipe_review", "referral"),
        ("submit_to_equipe", "referral", "equipe_review"),
        ("take_in", "equipe_review", "engagement"),
        ("start_project", "engagement", "individual_project"),
        ("start_accompaniment", "individual_project", "accompaniment"),
        ("verify", "accompaniment", "verification"),
        ("extend", "verification", "accompaniment"),
        ("verify", "accompaniment", "verification"),
        ("close", "verification", "closed"),
    ]
