"""The machinery that runs the stages: the build, the partition cache, worker processes, progress."""
