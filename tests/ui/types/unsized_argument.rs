// An argument type without a size: one error, on the type, with the owned form.
use scope::model;

model! {
    pub struct F("f", f: dyn Fn() -> usize) {
        w: [1],
    }
}

fn main() {}
