"""Web pages of the services domain: the directory, its search and maintenance, the pact's referrals
to services, the public board."""
