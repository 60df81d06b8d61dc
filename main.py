"""The `sparsepix` program: the codec's commands plus those of train/ and benchmarks/.

It sits above every package, so the codec's own CLI (sparsepix.cli) never imports upwards.
"""

from __future__ import annotations

from sparsepix.benchmarks.cli import COMMANDS as BENCH_COMMANDS
from sparsepix.cli import cli, run
from sparsepix.train.cli import COMMANDS as TRAIN_COMMANDS


def main() -> None:
    for command in (*TRAIN_COMMANDS, *BENCH_COMMANDS):
        cli.add_command(command)
    run(cli)


if __name__ == "__main__":
    main()
