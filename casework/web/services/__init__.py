"""Web pages of the services directory."""
