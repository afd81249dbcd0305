"""Work lists: entries per resident, ordering and capacity, and the reasons a doctor reads."""
