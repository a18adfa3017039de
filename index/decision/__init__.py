"""Decision: whether the best passage answers, what else a message is, and fitting it."""
