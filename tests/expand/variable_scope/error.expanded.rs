use scope::{variable_scope, Variable};
/// On error the struct is still emitted, helper attributes stripped, next to every error.
pub struct Broken {
    pub weights: Variable,
    pub biases: Variable,
}
::core::compile_error! {
    "unknown key `shap` in #[var(..)]; expected one of: shape, init, dtype, trainable, name"
}
::core::compile_error! {
    "unknown initializer `normal`; expected one of: zeros, ones, glorot_uniform, constant(value), random_normal(mean, stddev), truncated_normal(mean, stddev), random_uniform(minval, maxval), value(tensor)"
}
::core::compile_error! {
    "'_bad' is not a valid scope name: TensorFlow requires a root scope name to match ^[A-Za-z0-9.][A-Za-z0-9_.\\\\/>-]*$"
}
fn main() {}
