extern crate scope as tf;

use tf::model;

model! {
    /// A layer of a crate that depends on `scope` as `tf`.
    pub struct Dense(crate = tf, "dense", units: usize) {
        kernel: [units, units] = random_normal(0.0, 0.5),
    }
}

fn main() {}
