use scope::model;

model! {
    pub struct Dense("dense", inputs: usize, units: usize) {
        weights: [inputs, units],
    }

    pub struct Tower("tower", width: usize) {
        layer: model Dense(width),
    }
}

fn main() {}
