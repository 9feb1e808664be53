// A keyword as an item name: one error, with the fix; the rest of the model still works.
use scope::model;

model! {
    pub struct Dense("dense", n: usize) {
        type: [n],
        bias: [n],
    }
}

pub fn build(reg: &scope::Registry) -> scope::Result<scope::Variable> {
    Ok(Dense::new(reg, 2)?.bias)
}

fn main() {}
