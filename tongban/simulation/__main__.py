import sys

from tongban.simulation.simulate import main

sys.exit(main(sys.argv[1:]))
