from stream_jobs.cli import main

main()
