r"""Ray job: the whole pipeline (extract, cluster, evaluate with --labels) on the cluster.

    ray job submit --address http://HEAD:8265 --runtime-env jobs/runtime_env.yaml --working-dir . -- \
        python jobs/run.py s3://bucket/photos --out s3://bucket/runs/r1
"""

from _job import run

if __name__ == "__main__":
    run("run")
