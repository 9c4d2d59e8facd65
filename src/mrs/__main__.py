from mrs.cli import main

main()
