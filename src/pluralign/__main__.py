from pluralign.cli import main

main()
