use scope::{variable_scope, CustomGetter, Variable};

/// TF-Slim's renaming getter, given once.
pub fn rename_getter() -> CustomGetter {
    CustomGetter::rename([("kernel", "weights"), ("bias", "biases")])
}

/// A layer whose scope renames `kernel`/`bias` and regularizes everything by default.
#[variable_scope("fc", n: usize, custom_getter = rename_getter(), regularizer = l2(0.1))]
pub struct Fc {
    #[var(shape = [n, n], constraint = clip_by_norm(1))]
    pub kernel: Variable,
    /// Not regularized by the scope's default: its own regularizer replaces it.
    #[var(shape = [n], init = zeros, regularizer = l1_l2(0.01, 0.0), collections = [GLOBAL_VARIABLES, MODEL_VARIABLES, "biases"])]
    pub bias: Variable,
    /// Kept out of the global collection, as TF's `collections=[LOCAL_VARIABLES]`.
    #[var(shape = [], dtype = i64, init = zeros, trainable = false, collections = [LOCAL_VARIABLES])]
    pub step: Variable,
}

fn main() {}
