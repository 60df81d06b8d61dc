from sparsepix.codec.cli import main

if __name__ == "__main__":
    main()
