"""Synthetic population (SPEC section 9)."""

from riskmodel.synth.population import (
    CHUNK_ROWS,
    Truth,
    default_team_count,
    draw_truth,
    generate_chunk,
    iter_population,
    residents_per_team,
    write_population,
)

__all__ = [
    "CHUNK_ROWS",
    "Truth",
    "default_team_count",
    "draw_truth",
    "generate_chunk",
    "iter_population",
    "residents_per_team",
    "write_population",
]
