"""Who may see what, and proof of who did: sign-in and sessions, passwords, the access scoping
every query for people, pacts, referrals and documents goes through, the access log and the edit
history. It knows nothing of Flask and of the other domains; every domain may use it."""
