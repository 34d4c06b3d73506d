"""Web pages of the people domain: beneficiaries' list, record, forms and history."""
