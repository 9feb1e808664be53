use scope::variable_scope;

pub struct Plain;

#[variable_scope("outer")]
pub struct Outer {
    #[model]
    pub inner: Plain,
}

fn main() {}
