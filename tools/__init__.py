"""Developer tools, run from a source checkout (python -m sparsepix.tools.NAME); not in the wheel:
fuzz, readme (the README table), run_summary (a run for its card), network_speed, data_rate."""
