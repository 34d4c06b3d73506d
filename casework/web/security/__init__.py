"""Web pages of the security domain: sign-in and sign-out."""
