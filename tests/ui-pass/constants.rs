//! Initializer arguments of any numeric type, literal or `const` (issue #16, 5).
#![deny(warnings)]

const SCALE: f32 = 0.5;
const COUNT: u8 = 3;
const BIG: usize = 7;
const ON: bool = true;
const NEG: i32 = -2;

/// Sizes.
#[derive(Clone, Copy)]
pub struct Cfg {
    /// Initial value.
    pub init: i64,
}

scope::model! {
    /// Constants of every kind.
    pub struct Consts("consts", cfg: Cfg) {
        a: [2] = constant(1f64),
        b: [2] = random_normal(0f64, 1f64),
        c: [2] = random_uniform(-1f32, 0.5f32),
        d: [1] = constant(SCALE),
        e: i32[1] = constant(COUNT),
        f: i64[1] = constant(BIG),
        g: bool[1] = constant(ON),
        h: i32[1] = constant(NEG),
        i: i64[1] = constant(cfg.init),
        j: i32[1] = constant(3u8),
        k: [1] = constant(0.25f32),
        l: f64[1] = constant(2),
        m: bool[1] = ones,
        n: i64[1] = constant(-4),
    }
}

fn main() {
    let reg = scope::Registry::with_seed(3);
    let m = Consts::new(&reg, Cfg { init: 9 }).expect("builds");
    let value = |v: &scope::Variable| v.read().to_f64_vec()[0];
    assert_eq!(value(&m.a), 1.0);
    assert_eq!(value(&m.d), 0.5);
    assert_eq!(value(&m.e), 3.0);
    assert_eq!(value(&m.f), 7.0);
    assert_eq!(value(&m.g), 1.0);
    assert_eq!(value(&m.h), -2.0);
    assert_eq!(value(&m.i), 9.0);
    assert_eq!(value(&m.j), 3.0);
    assert_eq!(value(&m.k), 0.25);
    assert_eq!(value(&m.l), 2.0);
    assert_eq!(value(&m.n), -4.0);
}
