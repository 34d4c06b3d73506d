"""The personalised pact: the operations that move it and fill it in (referral, screening, goals,
actions, signature, contacts, outcome), the pact page's view model, the case file (timeline, journal,
équipe), documents, the workflow diagram and the case manager's day (Oggi). Operations take the
session, the actor and a clock; this package knows nothing of Flask or of a request."""
