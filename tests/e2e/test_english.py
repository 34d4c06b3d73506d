"""The header's language switch: the pact page, its headings and its workflow labels in English."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.test_case_manager_flow import look_at, record_referral, stage_of, start_case

PACT_HEADINGS = [
    "What can be done now", "Referral", "Screening", "Co-design: goals, actions and commitments",
    "Signature of the pact", "Follow-up contacts", "Outcome", "Timeline", "Add to the journal", "Équipe",
    "Documents", "Workflow",
]


def test_the_pact_page_in_english(page):
    person, _ = start_case(page)
    record_referral(page, "Madre sola con due figli, chiede sostegno per la ricerca di lavoro.")

    page.get_by_role("banner").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the document has no accessible name
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pact of {person.full_name}")
    for heading in PACT_HEADINGS:
        expect(page.get_by_role("heading", level=2, name=heading, exact=True)).to_be_visible()

    # Workflow labels come from the workflow file, in the reader's language.
    assert stage_of(page) == "Referral"
    expect(page.get_by_role("main").get_by_role("definition").nth(1)).to_contain_text(
        "Screening within 10 working days of the referral")
    moves = page.get_by_role("region", name="What can be done now")
    expect(moves.get_by_role("button", name="Start screening", exact=True)).to_be_visible()
    expect(moves.get_by_role("button", name="Record withdrawal", exact=True)).to_be_visible()
    expect(moves).to_contain_text("The pact goes to: Screening")
    referral = page.get_by_role("region", name="Referral")
    expect(referral).to_contain_text("Self-referral")
    diagram = page.get_by_role("region", name="Workflow").get_by_role("img")
    expect(diagram).to_have_accessible_name("Workflow of the pact: Personalised pact")
    expect(diagram).to_have_accessible_description(re.compile(
        r"Stages in order: Referral → Screening → Co-design → Activation → Follow-up → Closed\. "
        r"Current stage: Referral\."))
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).to_contain_text("Pact opened in the stage Referral")
    expect(timeline).to_contain_text("Referral recorded: Self-referral")
    look_at(page, "pact-en", language="en")

    # The next stage's words too: the moves, the refusal reasons, the screening questionnaire.
    moves.get_by_role("button", name="Start screening", exact=True).click()
    expect(page.get_by_text("The pact is now at the stage: Screening.")).to_be_visible()
    moves = page.get_by_role("region", name="What can be done now")
    expect(moves.get_by_role("listitem").filter(has_text="Start co-design")).to_contain_text(
        "the screening questionnaire has not been completed")
    screening = page.get_by_role("region", name="Screening")
    expect(screening.get_by_role("group", name="Work and income", exact=True)).to_be_visible()
    expect(screening.get_by_role("group", name="Employment situation", exact=True).get_by_role(
        "radio", name="Unemployed", exact=True)).to_have_count(1)
    expect(screening.get_by_role("button", name="Save the screening")).to_be_visible()
    look_at(page, "pact-en-screening", language="en")

    page.get_by_role("banner").get_by_role("button", name="Italiano").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Patto di {person.full_name}")
    assert stage_of(page) == "Screening"
