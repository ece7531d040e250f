//! `veltix serve --mode broadcast --redis URL` across nodes, with real
//! components only: a real `redis-server` (Debian's package; the tests fail
//! saying how to get it when it is missing), several `veltix serve`
//! processes and real veltix 1.6.3 Python clients (`tests/py/ref_client.py`)
//! on different nodes.

#[path = "../common/mod.rs"]
mod common;

mod cases;
mod node;
mod redis;
