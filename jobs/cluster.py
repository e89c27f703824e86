r"""Ray job: cluster the faces of an extracted run (writes clusters.csv and clusters.parquet).

    ray job submit --address http://HEAD:8265 --runtime-env jobs/runtime_env.yaml --working-dir . -- \
        python jobs/cluster.py s3://bucket/runs/r1 --clusterer hdbscan
"""

from _job import run

if __name__ == "__main__":
    run("cluster")
