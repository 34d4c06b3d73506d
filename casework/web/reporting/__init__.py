"""Web pages of the reporting domain: indicators, the funder report, exports."""
