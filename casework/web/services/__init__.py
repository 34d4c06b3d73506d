"""Web pages of the services domain: the directory, its search, the pact's referrals to services."""
