use scope::{variable_scope, Variable};

#[variable_scope("inner")]
pub struct Inner {
    #[var(shape = [2])]
    pub w: Variable,
}

#[variable_scope("outer")]
pub struct Outer {
    #[model(scop = "cell")]
    pub inner: Inner,
}

fn main() {}
