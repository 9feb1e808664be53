use scope::model;
/// The struct is still emitted, with every error.
pub struct Broken {
    /// Variable `layer/weights`: shape `[2, 2]`.
    pub layer_weights: ::scope::__private::Variable,
    /// Variable `biases`: `zeros`.
    pub biases: ::scope::__private::Variable,
}
::core::compile_error! {
    "duplicate name `weights` in scope `broken/layer`: already used by a variable"
}
::core::compile_error! {
    "variable `biases` has no shape: give one (`[in_size, units]`), or an initializer that carries it (`value(..)`)"
}
::core::compile_error! {
    "duplicate field `layer_weights`: fields are named by their sub-scopes joined with `_`; rename one"
}
fn main() {}
