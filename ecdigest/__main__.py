from ecdigest.cli import main

main()
