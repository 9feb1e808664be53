// A `crate = ..` path that names nothing: one error per model, under the path.
use scope::model;

model! {
    pub struct Dense(crate = tff, "dense", units: usize) {
        kernel: [units, units] = random_normal(0.0, 0.5),
        #[model(repeat = units)] inner: model Inner,
    }
    pub struct Inner(crate = tff, "inner") { w: [1] }
}

fn main() {}
