"""Web pages of the supervision domain: caseloads and reassignment, approvals, programmes."""
