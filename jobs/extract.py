r"""Ray job: detect, align and embed every face of INPUTS into a run folder (local path or s3:// / gs://).

    ray job submit --address http://HEAD:8265 --runtime-env jobs/runtime_env.yaml --working-dir . -- \
        python jobs/extract.py s3://bucket/photos --out s3://bucket/runs/r1 --model-root /home/ray/models

A job started again with the same command resumes: finished shards are skipped.
"""

from _job import run

if __name__ == "__main__":
    run("extract")
