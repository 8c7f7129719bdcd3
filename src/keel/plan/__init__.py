"""Plans: a pure diff of desired and actual state, and the evaluator that applies one."""
