// A missing `,` between items or keys: one error each, at the place of the `,`.
use scope::{model, variable_scope, Variable};

model! {
    pub struct A("a") {
        w: [1]
        x: [2],
    }
}

model! {
    pub struct B("b", n: usize) {
        a: [n];
        b: [n],
    }
}

model! {
    pub struct C("c") {
        w: [1] = zeros
        inner: model A,
    }
}

#[variable_scope("d")]
pub struct D {
    #[var(shape = [1] init = zeros)]
    pub w: Variable,
}

fn main() {}
