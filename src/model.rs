//! Model state and the step pipeline.
