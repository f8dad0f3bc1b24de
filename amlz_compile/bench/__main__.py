"""`python -m amlz_compile.bench`: run the benchmarks and print one JSON object."""

from amlz_compile.bench import main

main()
