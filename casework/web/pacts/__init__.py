"""Web pages of the pacts domain: Oggi, the pact page and its forms, the case file."""
