//! Domain unit tests live here.
