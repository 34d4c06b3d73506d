"""The header's language switch: the pact page, its headings and its workflow labels in English."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.test_case_manager_flow import look_at, record_referral, stage_of, start_case

# The parts of the pact: the link in "Parts of the pact" -> the part's heading.
PACT_PARTS = {
    "Referral": "Referral", "Screening": "Screening", "Co-design": "Co-design: goals, actions and commitments",
    "Services": "Services", "Signature": "Signature of the pact", "Follow-up contacts": "Follow-up contacts", "Outcome": "Outcome",
    "Timeline": "Timeline", "Journal": "Journal", "Équipe": "Équipe", "Documents": "Documents",
    "Workflow": "Workflow",
}


def open_part(page, link: str):
    nav = page.get_by_role("navigation", name="Parts of the pact")
    nav.get_by_role("link", name=re.compile("^" + re.escape(link) + "( To do now)?$")).click()
    part = page.get_by_role("region", name=PACT_PARTS[link], exact=True)
    expect(part.get_by_role("heading", level=2, name=PACT_PARTS[link], exact=True)).to_be_visible()
    return part


def test_the_pact_page_in_english(page):
    person, _ = start_case(page)
    record_referral(page, "Madre sola con due figli, chiede sostegno per la ricerca di lavoro.")

    page.get_by_role("banner").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")  # the document has no accessible name
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pact of {person.full_name}")
    for link in PACT_PARTS:
        open_part(page, link)

    # Workflow labels come from the workflow file, in the reader's language.
    assert stage_of(page) == "Referral"
    expect(page.locator("#workspace-header .workspace-deadline")).to_contain_text(
        "Screening within 10 working days of the referral")
    moves = page.get_by_role("group", name="What can be done now")
    expect(moves.get_by_role("button", name="Start screening", exact=True)).to_be_visible()
    moves.get_by_role("link", name="Record withdrawal…").click()
    dialog = page.get_by_role("dialog", name="Record withdrawal")
    expect(dialog).to_contain_text("The pact goes to: Withdrawn")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    referral = open_part(page, "Referral")
    expect(referral).to_contain_text("Self-referral")
    diagram = open_part(page, "Workflow").get_by_role("img")
    expect(diagram).to_have_accessible_name("Workflow of the pact: Personalised pact")
    expect(diagram).to_have_accessible_description(re.compile(
        r"Stages in order: Referral → Screening → Co-design → Activation → Follow-up → Closed\. "
        r"Current stage: Referral\."))
    timeline = open_part(page, "Timeline")
    expect(timeline).to_contain_text("Pact opened in the stage Referral")
    expect(timeline).to_contain_text("Referral recorded: Self-referral")
    look_at(page, "pact-en", language="en")

    # The next stage's words too: the moves, the refusal reasons, the screening questionnaire.
    moves.get_by_role("button", name="Start screening", exact=True).click()
    expect(page.get_by_text(f"The pact of {person.full_name} is now at the stage: Screening.")).to_be_visible()
    moves = page.get_by_role("group", name="What can be done now")
    moves.get_by_text(re.compile(r"^\d+ moves? not possible yet$")).click()
    expect(moves.get_by_role("listitem").filter(has_text="Start co-design")).to_contain_text(
        "the screening questionnaire has not been completed")
    screening = page.get_by_role("region", name="Screening")  # the stage's work, first
    screening.locator("summary", has_text="Fill in the screening questionnaire").click()
    expect(screening.get_by_role("group", name="Work and income", exact=True)).to_be_visible()
    expect(screening.get_by_role("group", name="Employment situation", exact=True).get_by_role(
        "radio", name="Unemployed", exact=True)).to_have_count(1)
    expect(screening.get_by_role("button", name="Save the screening")).to_be_visible()
    look_at(page, "pact-en-screening", language="en")

    page.get_by_role("banner").get_by_role("button", name="Italiano").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Patto di {person.full_name}")
    assert stage_of(page) == "Screening"
