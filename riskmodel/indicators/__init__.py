"""Team indicators (SPEC 11): BPHS assessment figures and WHO HEARTS, per team, grid and county, with trends."""
