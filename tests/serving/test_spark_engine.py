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


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for name in a.columns:
        if a[name].dtype.kind == "f":
            assert np.allclose(a[name].to_numpy(), b[name].to_numpy(), equal_nan=True, atol=1e-12), name
        else:
            assert a[name].astype(str).tolist() == b[name].astype(str).tolist(), name


@pytest.mark.slow
def test_spark_with_events_equals_local_with_events(tmp_path, model, config):
    import datetime as dt

    from riskmodel.batch import events_rejected_path
    from riskmodel.synth import write_population
    from riskmodel.synth.population import events_path
    from serving.spark_engine import score_file_spark

    source = write_population(
        tmp_path / "people.parquet", 4000, teams=4, seed=21, as_of=dt.date(2026, 7, 1), history_years=3
    )
    events = pq.read_table(events_path(source)).to_pandas()
    events.loc[5, "event_date"] = dt.date(2027, 1, 1)  # after the as-of date: rejected
    events.loc[9, "resident_id"] = "NOBODY"  # unknown resident: rejected
    events.to_parquet(tmp_path / "events.parquet")
    from riskmodel.store.batches import ResultStore

    kwargs = {"config": config, "as_of": SYNTH_AS_OF, "events_path": tmp_path / "events.parquet"}
    local_store, spark_store = (ResultStore(f"sqlite:///{tmp_path / name}") for name in ("l.db", "s.db"))
    local = score_file(source, tmp_path / "local.parquet", model, store=local_store, **kwargs)
    spark = score_file_spark(source, tmp_path / "spark.parquet", model, master="local[2]", store=spark_store, **kwargs)
    # the published batch's monitoring (SPEC 12) is the same from either engine
    assert local.monitoring is not None and spark.monitoring is not None
    assert _rounded(local.monitoring) == _rounded(spark.monitoring)
    assert (local.events_read, local.events_used, local.events_rejected) == (
        spark.events_read,
        spark.events_used,
        spark.events_rejected,
    )
    assert local.events_rejected == 2
    _same(pd.read_parquet(tmp_path / "local.parquet"), pd.read_parquet(tmp_path / "spark.parquet"))
    ra = pd.read_parquet(events_rejected_path(tmp_path / "local.parquet"))
    rb = pd.read_parquet(events_rejected_path(tmp_path / "spark.parquet"))
    assert ra[["row_number", "errors"]].values.tolist() == rb[["row_number", "errors"]].values.tolist()


def _rounded(value):  # type: ignore[no-untyped-def]
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory):
    """A real Spark standalone cluster on loopback: a master and a worker from PySpark's own launcher."""
    import os
    import socket
    import subprocess
    import time
    from pathlib import Path

    import pyspark

    spark_class = Path(pyspark.__file__).parent / "bin" / "spark-class"
    logs = tmp_path_factory.mktemp("cluster")

    def port() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    master_port = port()
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_HOME": str(spark_class.parent.parent)}
    master = subprocess.Popen(
        [
            str(spark_class),
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(master_port),
            "--webui-port",
            str(port()),
        ],
        stdout=open(logs / "master.log", "w"),  # noqa: SIM115 - the process holds it until the end
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"spark://127.0.0.1:{master_port}"
    worker = subprocess.Popen(
        [
            str(spark_class),
            "org.apache.spark.deploy.worker.Worker",
            url,
            "--host",
            "127.0.0.1",
            "--cores",
            "2",
            "--memory",
            "2g",
            "--webui-port",
            str(port()),
        ],
        stdout=open(logs / "worker.log", "w"),  # noqa: SIM115 - the process holds it until the end
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 90
    while "Registering worker" not in (logs / "master.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "Registering worker" in (logs / "master.log").read_text(), (logs / "master.log").read_text()[-2000:]
    yield url
    for process in (worker, master):
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_a_real_standalone_cluster_scores_a_partitioned_dataset_with_events(
    tmp_path, model, config, standalone_cluster
):
    import datetime as dt

    from pyspark.sql import SparkSession

    from riskmodel.synth import write_population
    from riskmodel.synth.population import events_path
    from serving.spark_engine import score_file_spark

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()  # the module's local session: the cluster gets its own
    source = write_population(
        tmp_path / "people.parquet", 3000, teams=3, seed=8, as_of=dt.date(2026, 7, 1), history_years=2
    )
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    table = pq.read_table(source)
    for k in range(3):  # a partitioned Parquet dataset: three files
        pq.write_table(table.slice(k * 1000, 1000), dataset / f"part-{k}.parquet")
    kwargs = {"config": config, "as_of": SYNTH_AS_OF, "events_path": events_path(source)}
    local = score_file(source, tmp_path / "local.parquet", model, **kwargs)
    clustered = score_file_spark(dataset, tmp_path / "cluster.parquet", model, master=standalone_cluster, **kwargs)
    assert (local.rows_scored, local.events_used) == (clustered.rows_scored, clustered.events_used)
    a = pd.read_parquet(tmp_path / "local.parquet").sort_values("resident_id").reset_index(drop=True)
    b = pd.read_parquet(tmp_path / "cluster.parquet").sort_values("resident_id").reset_index(drop=True)
    _same(a, b)
    SparkSession.getActiveSession().stop()
