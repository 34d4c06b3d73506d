"""Web pages for administrators: e-mail that could not be delivered."""
