// A dimension sees the constructor's arguments, never the fields built before it.
scope::model! {
    pub struct Dense("dense", n: usize) {
        units: [n],
        weights: [units, n],
    }
}

fn main() {}
