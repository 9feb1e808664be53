//! Fields are no locals of the constructor: a field named like a `const`, a function or
//! `Ok` beside a dimension that uses them (issue #16, 3).
#![deny(warnings)]
#![allow(non_upper_case_globals, non_snake_case)]

const W: usize = 3;

fn hidden() -> usize {
    2
}

scope::model! {
    /// Names a dimension uses, as fields.
    pub struct Clash("clash", n: usize) {
        W: [W, n],
        Ok: [W],
        hidden: [hidden()],
        Err: [hidden(), W] = zeros,
        #[var(tied = &hidden)]
        tie: [2],
    }
}

fn main() {
    let reg = scope::Registry::new();
    let m = Clash::new(&reg, 4).expect("builds");
    assert_eq!(m.W.shape(), [3, 4]);
    assert_eq!(m.Ok.shape(), [3]);
    assert_eq!(m.hidden.shape(), [2]);
    assert!(m.tie.ptr_eq(&m.hidden));
}
