"""The world a tag lives in: scenarios (the YAML format), true traces, the GNSS
receiver model, the RF model, zones, synthetic cohorts and real receiver captures.
Nothing here runs firmware or judges it."""
