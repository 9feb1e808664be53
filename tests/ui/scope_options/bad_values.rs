use scope::{model, variable_scope, Variable};

#[variable_scope("m", n: usize, regularizer = l3(0.1), custom_getter = 5, foo = 1)]
pub struct M {
    #[var(shape = [n], regularizer = l2(-0.1), constraint = clamp(0, 1))]
    pub a: Variable,
    #[var(shape = [n], collections = [MODEL_VARS, 3], constraint = clip_by_value(1))]
    pub b: Variable,
    #[var(shape = [n], collections = "mine", regularizer = l1_l2("a", 0.1))]
    pub c: Variable,
}

model! {
    pub struct D("d", regularizer = l2(0.1), regularizer = l1(0.1)) {
        #[scope(regularizer = 0.1, getter = x)]
        inner { w: [2] }
    }
}

fn main() {}
