use scope::model;

model! {
    pub struct Dense("dense", units: usize) {
        units: [units],
    }
}

fn main() {}
