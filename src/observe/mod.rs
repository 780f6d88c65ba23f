//! Observers: run directory, manifest, time series, events.
