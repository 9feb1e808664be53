use scope::model;

model! {
    /// A layer.
    pub struct Dense("dense", inputs: usize, units: usize) {
        weights: [inputs, units] = glorot_uniform,
        biases: f32[units] = zeros,
    }

    /// A model of models, with a counter.
    pub struct Tower("tower", width: usize) {
        /// The first layer, in the type's default scope.
        first: model Dense(width, width),
        #[model(scope = "second")]
        second: model Dense(width, 1),
        #[var(name = "global_step", trainable = false)]
        step: i64[] = zeros,
    }
}

fn main() {}
