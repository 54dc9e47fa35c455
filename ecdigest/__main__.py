from ecdigest.launcher import main

main()
