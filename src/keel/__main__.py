from keel.entry import run

run()
