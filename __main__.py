from sparsepix.codec.cli import main

main()
