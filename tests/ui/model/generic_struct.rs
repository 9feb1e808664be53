// A `model!` model cannot be generic: one error, at the generics.
use scope::model;

model! {
    pub struct G<T: Clone>("g") {
        w: [1],
    }
}

fn main() {}
