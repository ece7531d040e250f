//! Logging: the library logs through the `log` facade and never prints.
