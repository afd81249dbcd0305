"""The Spark engine gives the same output as the local engine on the same input (issue 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from riskmodel.batch import rejected_path, score_file
from tests.conftest import SYNTH_AS_OF


@pytest.mark.slow
def test_spark_output_equals_local_output(tmp_path, population_file, model, config):
    from serving.spark_engine import _session, score_file_spark

    # Small input splits, so the 6,000 rows span several partitions and the duplicate crosses them.
    _session("local[2]").conf.set("spark.sql.files.maxPartitionBytes", "300000")

    frame = pq.read_table(population_file).slice(0, 6000).to_pandas()
    frame["note"] = "x"
    frame.loc[10, "age_years"] = 200
    frame.loc[4000, "resident_id"] = frame.loc[20, "resident_id"]  # duplicate in another partition
    source = tmp_path / "input.csv"
    frame.to_csv(source, index=False)
    local = score_file(source, tmp_path / "local.parquet", model, config=config, as_of=SYNTH_AS_OF, chunk_rows=1500)
    spark = score_file_spark(
        source, tmp_path / "spark.parquet", model, config=config, as_of=SYNTH_AS_OF, master="local[2]"
    )
    assert (local.rows_scored, local.rows_rejected) == (spark.rows_scored, spark.rows_rejected) == (5998, 2)
    a, b = pd.read_parquet(tmp_path / "local.parquet"), pd.read_parquet(tmp_path / "spark.parquet")
    assert list(a.columns) == list(b.columns)
    for name in a.columns:
        if a[name].dtype.kind == "f":
            assert np.allclose(a[name].to_numpy(), b[name].to_numpy(), equal_nan=True, atol=1e-12), name
        else:
            assert a[name].astype(str).tolist() == b[name].astype(str).tolist(), name
    ra, rb = (
        pd.read_parquet(rejected_path(tmp_path / "local.parquet")),
        pd.read_parquet(rejected_path(tmp_path / "spark.parquet")),
    )
    assert ra[["row_number", "errors"]].values.tolist() == rb[["row_number", "errors"]].values.tolist()
