from zsl_toolkit.cli import main

main()
