//! `f32` `exp`, `tanh` and the logistic function without libm calls, so hot loops
//! vectorize. Accurate to a few ulp (checked against `f64` in the tests), like the Eigen
//! kernels TensorFlow runs.

/// `e^x` (Cephes `expf`: `x = n ln 2 + r`, a degree-6 polynomial in `r`, scaled by `2^n`).
/// Inputs are clamped to `[-87, 88]`, so the result is never 0, infinite or subnormal
/// except through that clamp; NaN stays NaN.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding and subtracting rounds to integer
                                     // `clamp` keeps NaN, so a NaN loss is still reported as NaN.
    let x = x.clamp(-87.0, 88.0);
    // `t` holds round(x log2 e) in its low mantissa bits; no float-to-int cast, so the
    // whole function vectorizes.
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * C1 - n * C2;
    let r2 = r * r;
    let p = ((((1.987_569_1e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let y = p * r2 + r + 1.0;
    let scale = f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    y * scale
}

/// The logistic function `1 / (1 + e^-x)`.
#[inline(always)]
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh(x)`: Eigen's rational approximation for `float` (odd degree 13 over even degree 6
/// on `[-9, 9]`, `x` itself for tiny `|x|`); within 3.3e-7 of the true value.
#[inline(always)]
pub(crate) fn tanh(x: f32) -> f32 {
    const A1: f32 = 4.893_524_6e-3;
    const A3: f32 = 6.372_619e-4;
    const A5: f32 = 1.485_722_4e-5;
    const A7: f32 = 5.122_297e-8;
    const A9: f32 = -8.604_672e-11;
    const A11: f32 = 2.000_188e-13;
    const A13: f32 = -2.760_768_5e-16;
    const B0: f32 = 4.893_525e-3;
    const B2: f32 = 2.268_434_7e-3;
    const B4: f32 = 1.185_347_1e-4;
    const B6: f32 = 1.198_258_4e-6;
    let c = x.clamp(-9.0, 9.0);
    let x2 = c * c;
    let p = ((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1) * c;
    let q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0;
    let t = p / q;
    if x.abs() < 4e-4 {
        x
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> impl Iterator<Item = f32> {
        (-200_000..=200_000).map(|k| k as f32 * 1e-4)
    }

    #[test]
    fn exp_is_within_a_few_ulp() {
        for x in grid().chain([-86.9f32, -50.0, 30.0, 87.9]) {
            let want = f64::from(x).exp();
            let got = f64::from(exp(x));
            assert!(
                ((got - want) / want).abs() < 4e-7,
                "exp({x}) = {got}, want {want}"
            );
        }
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn tanh_and_sigmoid_are_accurate() {
        for x in grid() {
            let xd = f64::from(x);
            let (t, s) = (xd.tanh(), 1.0 / (1.0 + (-xd).exp()));
            assert!(
                (f64::from(tanh(x)) - t).abs() <= 5e-7 * t.abs().max(1e-3),
                "tanh({x})"
            );
            assert!(
                (f64::from(sigmoid(x)) - s).abs() <= 3e-7 * s,
                "sigmoid({x})"
            );
        }
        assert!((tanh(100.0) - 1.0).abs() < 1e-6 && (tanh(-100.0) + 1.0).abs() < 1e-6);
        assert_eq!(sigmoid(-200.0).min(1e-30), sigmoid(-200.0));
    }
}
