//! The four C math functions the binary calls (`log`, `log2`, `log10`,
//! `pow`: from plotters, indicatif and hdrhistogram through `f64::ln` and
//! the like), defined here in Rust by the `libm` crate, so that the linker
//! resolves them in the binary and drops glibc's libm.so (it links with
//! `--as-needed`).
//!
//! Why: the binary binds every symbol at start (BIND_NOW), and for these
//! four the loader runs libm's resolvers (each picks an FMA or a plain
//! variant), which map four 64 KiB windows of libm's code: 0.3 MiB of an
//! idle server's 4 MiB, for functions a server never calls. `libm` is the
//! port of musl's, whose `log`, `log2` and `pow` are the same ARM
//! optimized-routines code as glibc's (under 1 ULP; `log10` within 1 ULP).
//! A dependency that calls another libm function brings libm.so back
//! (only the memory is lost).

/// The natural logarithm.
#[no_mangle]
pub extern "C" fn log(x: f64) -> f64 {
    libm::log(x)
}

/// The base-2 logarithm.
#[no_mangle]
pub extern "C" fn log2(x: f64) -> f64 {
    libm::log2(x)
}

/// The base-10 logarithm.
#[no_mangle]
pub extern "C" fn log10(x: f64) -> f64 {
    libm::log10(x)
}

/// `x` to the power `y`.
#[no_mangle]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

#[cfg(test)]
mod tests {
    /// Within one unit in the last place of `want`.
    fn close(got: f64, want: f64) -> bool {
        got == want || (got - want).abs() <= f64::EPSILON * want.abs()
    }

    // The table holds glibc's results as printed, some of which are
    // constants of std (ln 0.1 is -LN_10).
    #[allow(clippy::approx_constant)]
    #[test]
    fn the_functions_give_what_glibc_gives() {
        // (x, log, log2, log10, x^1.7), from glibc (Python's math module).
        let table = [
            (0.1, -2.3025850929940455, -3.321928094887362, -1.0, 0.0199526231496888),
            (0.5, -0.6931471805599453, -1.0, -0.3010299956639812, 0.3077861033362291),
            (1.5, 0.4054651081081644, 0.5849625007211562, 0.17609125905568124, 1.9923018599150013),
            (7.0, 1.9459101490553132, 2.807354922057604, 0.8450980400142568, 27.331701439859053),
            (1e-300, -690.7755278982137, -996.5784284662087, -300.0, 0.0),
        ];
        for (x, ln, l2, l10, p) in table {
            assert!(close(super::log(x), ln), "log({x}) = {}", super::log(x));
            assert!(close(super::log2(x), l2), "log2({x}) = {}", super::log2(x));
            assert!(close(super::log10(x), l10), "log10({x}) = {}", super::log10(x));
            assert!(close(super::pow(x, 1.7), p), "pow({x}, 1.7) = {}", super::pow(x, 1.7));
        }
        assert!(super::log(-1.0).is_nan());
        assert_eq!(super::log(0.0), f64::NEG_INFINITY);
        assert_eq!(super::pow(0.0, -1.0), f64::INFINITY);
        assert_eq!(super::pow(2.0, 10.0), 1024.0);
    }
}
