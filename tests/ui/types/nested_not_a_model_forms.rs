// A type that is no model, nested in every form: one error each, at the type.
use scope::{model, variable_scope};

pub struct Plain;

#[variable_scope("outer", n: usize)]
pub struct Outer {
    #[model(repeat = n, args(1))]
    pub inner: Vec<Plain>,
    #[model(when = n > 1, default_name)]
    pub opt: Option<Plain>,
}

model! {
    pub struct M("m") {
        a { p: model Plain(3) }
        #[model(args = 5)] q: model Plain,
    }
}

fn main() {}
