# Entry points; the scripts do the work (and install what they need).
.PHONY: bench test demo
bench:
	scripts/bench.sh
test:
	scripts/test.sh
demo:
	scripts/demo.sh
