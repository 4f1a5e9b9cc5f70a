"""Helpers every layer of the zoo may use: input checks, batching, the state
guard, and the one module that touches Keras's private API."""
