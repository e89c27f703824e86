r"""Ray job: a Ray Tune sweep of clusterers over an extracted run, trials spread over the cluster.

    ray job submit --address http://HEAD:8265 --runtime-env jobs/runtime_env.yaml --working-dir . -- \
        python jobs/tune.py RUN --labels LABELS   # arguments of `raypipe tune`
"""

from _job import run

if __name__ == "__main__":
    run("tune")
