"""Impact reporting: indicators computed as SQL aggregates over the pacts a user may see, their
SVG charts and tables, CSV/XLSX exports and the pseudonymised dataset for funders. It only reads;
it knows nothing of Flask."""
