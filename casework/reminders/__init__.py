"""Time and what is due: Italian working days, deadlines computed from the workflow, deadline rows
with their reminders and escalations (sent exactly once), in-app notifications, the mail outbox,
the calendar feed, and the scheduler process with its lock. It uses the workflow and the access
scoping; it knows nothing of pacts' forms, of supervisors' pages or of Flask."""
