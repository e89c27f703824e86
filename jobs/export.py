r"""Ray job: a folder per cluster of a clustered run (``RUN/clustered_faces/``), written by the cluster's tasks.

    ray job submit --address http://HEAD:8265 --runtime-env jobs/runtime_env.yaml --working-dir . -- \
        python jobs/export.py s3://bucket/runs/r1 --folders
"""

from _job import run

if __name__ == "__main__":
    run("export")
