"""`pytest benchmarks`: latency, throughput and accuracy of fer-edge's models and chain, beside the `fer` peer.

See benchmarks/README.md for what is measured, which ratios gate a run, and the commands.
"""
