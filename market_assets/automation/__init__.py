"""Daily automation: new Tardis exports requested as they land, recent gaps re-requested."""
