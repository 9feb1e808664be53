use scope::{variable_scope, Variable};

/// Every variable option, and no constructor arguments.
#[variable_scope("counters")]
pub(crate) struct Counters {
    /// Renamed, 64-bit, not trained.
    #[var(name = "global_step", shape = [], dtype = i64, init = zeros, trainable = false)]
    pub(crate) step: Variable,
    /// The shape comes from the value.
    #[var(init = value([1.0f32, 2.0, 3.0]))]
    pub(crate) table: Variable,
    /// An integer constant fills an integer variable (`Initializer::ConstantInt`).
    #[var(shape = [2], dtype = i32, init = constant(7))]
    pub(crate) sevens: Variable,
    /// TF's default initializer for floats.
    #[var(shape = [3, 3], dtype = f64)]
    pub(crate) kernel: Variable,
}

fn main() {}
