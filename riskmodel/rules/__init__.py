"""Clinical rules: guideline thresholds, tiers, screening intervals, control and actions with due dates."""
