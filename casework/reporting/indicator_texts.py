"""The words of the indicator tables: titles, notes saying how each figure is computed,
column and row labels, as messages of the translation catalogue (casework.i18n), by key."""

from __future__ import annotations

from casework.i18n import C_, N_, Message

TEXTS: dict[str, Message] = {
    # Table titles
    "targets.title": N_("Programme targets and results"),
    "reached.title": N_("People and pacts in the period"),
    "gender.title": N_("People reached by gender"),
    "age_band.title": N_("People reached by age band"),
    "migrant_background.title": N_("People reached by migrant background"),
    "comune.title": N_("People reached by comune of residence"),
    "funnel.title": N_("Stages reached by the pacts opened in the period"),
    "durations.title": N_("Time from referral"),
    "deadlines.title": N_("Deadlines met on time"),
    "outcomes.title": N_("Outcomes of the pacts closed"),
    "goals_achieved.title": N_("Goals achieved in the pacts closed"),
    "withdrawals.title": N_("Reasons for withdrawal and exit"),
    "trend.title": N_("Month by month"),
    # Sheet names in the XLSX export: Excel allows 31 characters, so a few words each.
    "targets.sheet": N_("Targets and results"),
    "reached.sheet": N_("People and pacts"),
    "gender.sheet": N_("By gender"),
    "age_band.sheet": N_("By age band"),
    "migrant_background.sheet": N_("By migrant background"),
    "comune.sheet": N_("By comune of residence"),
    "funnel.sheet": N_("Stages reached"),
    "durations.sheet": N_("Time from referral"),
    "deadlines.sheet": N_("Deadlines met"),
    "outcomes.sheet": N_("Outcomes of closed pacts"),
    "goals_achieved.sheet": N_("Goals achieved"),
    "withdrawals.sheet": N_("Withdrawal reasons"),
    "trend.sheet": N_("Month by month"),
    # Notes: how each table was computed
    "targets.note": N_("Each target of the programme against the figure measured over the chosen period (and territory): "
                       "people reached; shares of women and of people with a migrant background among them; share of the "
                       "pacts closed in the period with an outcome whose goals were fully achieved; share of deadlines met "
                       "on time. A target is met when the result is at least the target value. Targets Casework does not "
                       "measure are listed as written, without a result."),
    "targets.note_no_programme": N_("Choose a programme to compare its targets with the results."),
    "reached.note": N_("People reached: distinct beneficiaries with a pact open at some time in the period (opened by its "
                       "last day and not closed before its first). Pacts active: those pacts. Pacts opened and closed: pacts "
                       "opened, or closed in any final state, within the period. Only pacts the reader may see are "
                       "counted, except in a restricted programme's own figures: there a supervisor counts every case "
                       "of the territory anonymously, and any count from 1 to 4 is written \"<5\", without its share."),
    "breakdown.note": N_("People reached in the period (see the table of people and pacts); share of all the people reached."),
    "age_band.note": N_("People reached in the period, by age on the last day of the period; \"unknown\" when the date of "
                        "birth is not recorded. Share of all the people reached."),
    "funnel.note": N_("Pacts opened in the period, and how many of them entered each stage of their workflow at least "
                      "once by the last day of the period; the initial stage counts them all. Stages in the order of the "
                      "workflow file, final stages last; shares of the pacts opened on the same workflow. With no "
                      "programme chosen, each workflow's stages are listed under its name."),
    "durations.note": N_("Pacts opened in the period: calendar days from the referral date (else the day the pact was "
                         "opened) to the first completed screening, the first signature of the pact and activation (first "
                         "entry into the stage the workflow names as activation; workflows that name none are left out), "
                         "when reached by the last day of the period. Median and 90th percentile with linear interpolation; "
                         "n = pacts that reached the milestone."),
    "deadlines.note": N_("Pact deadlines falling due in the period: met (ended by their due time), missed (ended late, or "
                         "still open and due before today), pending (not due yet). Share = met ÷ (met + missed); pending "
                         "deadlines are left out of the share."),
    "outcomes.note": N_("Pacts closed in the period with a recorded outcome, by outcome; share of those pacts."),
    "goals_achieved.note": N_("Pacts closed in the period with a recorded outcome, by how far their goals were achieved; share of those pacts."),
    "withdrawals.note": N_("Moves made in the period by an event that asks for a reason (e.g. recording a withdrawal), by the "
                           "reason chosen; \"not recorded\" when there is none. Share of all those moves."),
    "trend.note": N_("For each month of the period (local time): pacts opened, pacts closed (in any final state) and "
                     "people with at least one follow-up contact in the month."),
    # Column labels
    "col.indicator": N_("Code"),
    "col.label": N_("Item"),
    "col.measure": N_("Measure"),
    "col.target_count": N_("Target (number)"),
    "col.actual_count": N_("Result (number)"),
    "col.target_share": N_("Target (share)"),
    "col.actual_share": N_("Result (share)"),
    "col.met": N_("Met"),
    "col.code": N_("Code"),
    "col.count": N_("Number"),
    "col.share": N_("Share"),
    "col.istat_code": N_("ISTAT code"),
    "col.comune": N_("Comune"),
    "col.workflow": N_("Workflow"),
    "col.state": N_("Stage"),
    "col.pacts": N_("Pacts"),
    "col.milestone": N_("Milestone"),
    "col.n": N_("Pacts that reached it (n)"),
    "col.median_days": N_("Median (days)"),
    "col.p90_days": N_("90th percentile (days)"),
    "col.status": N_("Deadline status"),
    "col.share_of_due": N_("Share of met and missed"),
    "col.outcome": N_("Outcome"),
    "col.goals_achieved": N_("Goals achieved"),
    "col.event": N_("Event"),
    "col.reason": C_("indicator column", "Reason"),
    "col.month": N_("Month (YYYY-MM)"),
    "col.month_label": N_("Month"),
    "col.opened": N_("Pacts opened"),
    "col.closed": N_("Pacts closed"),
    "col.contacted": N_("People with a follow-up contact"),
    # Row labels
    "reached.beneficiaries": N_("People reached"),
    "reached.pacts_active": N_("Pacts active in the period"),
    "reached.pacts_opened": N_("Pacts opened in the period"),
    "reached.pacts_closed": N_("Pacts closed in the period"),
    "gender.female": N_("Women"),
    "gender.male": N_("Men"),
    "gender.other": N_("Other gender"),
    "age.under_18": N_("Under 18"),
    "age.18_24": N_("18–24"),
    "age.25_34": N_("25–34"),
    "age.35_49": N_("35–49"),
    "age.50_64": N_("50–64"),
    "age.65_over": N_("65 and over"),
    "age.unknown": N_("Age unknown"),
    "migrant.yes": N_("With a migrant background"),
    "migrant.no": N_("Without a migrant background"),
    "comune.not_recorded": N_("Comune not recorded"),
    "milestone.screening": N_("First screening completed"),
    "milestone.signature": N_("Pact first signed"),
    "milestone.activation": N_("Activation"),
    "deadline.met": C_("deadlines", "Met"),
    "deadline.missed": N_("Missed"),
    "deadline.pending": N_("Pending"),
    "goals.fully": C_("goals achieved by pacts", "Fully"),
    "goals.partly": C_("goals achieved by pacts", "Partly"),
    "goals.not": C_("goals achieved by pacts", "Not achieved"),
    "reason.not_recorded": N_("Reason not recorded"),
    "measure.not_measured": N_("Not measured"),
}
# The months' short names, January first, separated by spaces.
MONTH_NAMES = N_("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec")
