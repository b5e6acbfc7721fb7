"""Test oracles: slow, plain implementations that the fast paths of the pipeline are compared with."""
