"""The workflow diagram: well-formed SVG, accessible, the pact's place and path highlighted, text escaped."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest

from casework.pacts.diagram import DiagramText, layout, main_path, workflow_svg
from casework.workflow.definition import StateDef

SVG = "{http://www.w3.org/2000/svg}"
TEXT = DiagramText(title="Percorso del patto", description="Fasi in ordine: Segnalazione → Screening.")


def definition(registry, name="patto_personalizzato"):
    return registry.latest(name).definition


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def state_group(root: ET.Element, state: str) -> ET.Element:
    [group] = [g for g in root.iter(f"{SVG}g") if g.get("data-state") == state]
    return group


def words(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def test_the_main_path_runs_from_referral_to_closure(registry):
    assert main_path(definition(registry)) == ["referral", "screening", "co_design", "activation", "follow_up", "closed"]
    assert main_path(definition(registry, "chance_dispersione")) == [
        "referral", "equipe_review", "engagement", "individual_project", "accompaniment", "verification", "closed"]


@pytest.mark.parametrize("name", ["patto_personalizzato", "chance_dispersione"])
def test_every_state_has_its_own_place_with_side_states_below(registry, name):
    places = layout(definition(registry, name))
    assert set(places) == set(definition(registry, name).states)
    assert len({(p.column, p.row) for p in places.values()}) == len(places)
    main = main_path(definition(registry, name))
    assert all((places[s].row == 0) == (s in main) for s in places)


def test_the_svg_is_well_formed_and_accessible(registry):
    root = parse(workflow_svg(definition(registry), locale="it", text=TEXT, current="referral"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label") == "Percorso del patto"
    assert root.find(f"{SVG}title").text == "Percorso del patto"
    description = root.find(f"{SVG}desc")
    assert description.text == TEXT.description and root.get("aria-describedby") == description.get("id")
    assert root.get("viewBox") and int(root.get("width")) > 0


def test_labels_are_in_the_readers_language(registry):
    italian = parse(workflow_svg(definition(registry), locale="it", text=TEXT, current="referral"))
    english = parse(workflow_svg(definition(registry), locale="en", text=TEXT, current="referral"))
    assert words(state_group(italian, "co_design")) == "Co-progettazione"
    assert words(state_group(english, "co_design")) == "Co-design"
    assert "Avvia lo screening" in words(italian) and "Start screening" in words(english)


def test_the_current_state_and_the_path_taken_are_highlighted_not_by_colour_alone(registry):
    svg = workflow_svg(
        definition(registry), locale="en", text=TEXT, current="co_design",
        visited=["referral", "screening", "co_design"],
        moves=[("start_screening", "referral", "screening"), ("start_co_design", "screening", "co_design")],
    )
    root = parse(svg)
    styles = {g.get("data-state"): g.get("class") for g in root.iter(f"{SVG}g") if g.get("data-state")}
    assert styles == {
        "referral": "state taken", "screening": "state taken", "co_design": "state current",
        "activation": "state other", "follow_up": "state other", "closed": "state other",
        "not_eligible": "state other", "suspended": "state other", "withdrawn": "state other",
    }
    current_box = state_group(root, "co_design").find(f"{SVG}rect")
    passed_box = state_group(root, "referral").find(f"{SVG}rect")
    other_box = state_group(root, "activation").find(f"{SVG}rect")
    assert float(current_box.get("stroke-width")) > float(passed_box.get("stroke-width"))
    assert other_box.get("stroke-dasharray") and not passed_box.get("stroke-dasharray")
    assert words(state_group(root, "referral")).startswith("✓")

    taken = {(g.get("data-event"), g.get("data-from"), g.get("data-to"))
             for g in root.iter(f"{SVG}g") if g.get("class") == "move taken"}
    assert taken == {("start_screening", "referral", "screening"), ("start_co_design", "screening", "co_design")}
    made = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "move taken").find(f"{SVG}path")
    possible = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "move").find(f"{SVG}path")
    assert not made.get("stroke-dasharray") and possible.get("stroke-dasharray")
    # The legend says in words what each style means.
    assert {"Current stage", "Stage already passed", "Stage not reached", "Move made", "Possible move"} <= {
        words(t) for t in root.iter(f"{SVG}text")}


def test_every_move_of_the_file_is_drawn_resume_to_each_state_it_may_return_to(registry):
    root = parse(workflow_svg(definition(registry), locale="it", text=TEXT, current="suspended"))
    moves = {(g.get("data-event"), g.get("data-from"), g.get("data-to"))
             for g in root.iter(f"{SVG}g") if g.get("data-event")}
    assert {("resume", "suspended", state) for state in ("screening", "co_design", "activation", "follow_up")} <= moves
    assert ("withdraw", "referral", "withdrawn") in moves and ("reopen", "closed", "co_design") in moves


def test_all_text_is_escaped(registry):
    hostile = '<script>alert("x")</script> & \x00 Co'
    base = definition(registry)
    states = dict(base.states)
    states["co_design"] = dataclasses.replace(states["co_design"], label={"it": hostile, "en": hostile})
    tampered = dataclasses.replace(base, states=states)
    text = DiagramText(title='Patto di <b>"Maria"</b>', description="A & B <i>")

    svg = workflow_svg(tampered, locale="it", text=text, current="co_design")

    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    root = parse(svg)  # well-formed despite the markup and the control character
    assert root.find(f"{SVG}title").text == 'Patto di <b>"Maria"</b>'
    assert root.find(f"{SVG}desc").text == "A & B <i>"
    assert "<script>alert(" in words(state_group(root, "co_design"))


def test_a_long_label_is_wrapped_and_cut(registry):
    base = definition(registry)
    states = dict(base.states)
    states["referral"] = StateDef(name="referral", label={"it": "parola " * 30, "en": "word " * 30})
    root = parse(workflow_svg(dataclasses.replace(base, states=states), locale="it", text=TEXT, current="referral"))
    lines = [span.text for span in state_group(root, "referral").iter(f"{SVG}tspan")]
    assert len(lines) == 3 and lines[-1].endswith("…")


def test_a_drawing_is_kept_per_definition_state_locale_and_path(registry):
    base = definition(registry)
    first = workflow_svg(base, locale="it", text=TEXT, current="referral", visited=["referral"])
    assert workflow_svg(base, locale="it", text=TEXT, current="referral", visited=("referral",)) is first
    other_state = workflow_svg(base, locale="it", text=TEXT, current="screening", visited=["referral", "screening"])
    other_locale = workflow_svg(base, locale="en", text=TEXT, current="referral", visited=["referral"])
    assert len({first, other_state, other_locale}) == 3
    assert state_group(parse(other_state), "screening").find(f"{SVG}rect").get("fill") != \
        state_group(parse(first), "screening").find(f"{SVG}rect").get("fill")
    # An equal but distinct definition (a reloaded registry) is drawn from its own data.
    copy = dataclasses.replace(base)
    assert workflow_svg(copy, locale="it", text=TEXT, current="referral", visited=["referral"]) is not first
