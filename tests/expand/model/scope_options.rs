use scope::{model, CustomGetter, Regularizer};

model! {
    /// A model whose scope takes a getter and a regularizer from its arguments, and whose
    /// sub-scope adds its own.
    pub struct Slim("slim", n: usize, getter: CustomGetter, penalty: Regularizer, regularizer = &penalty) {
        #[scope(custom_getter = &getter, regularizer = l2(0.5))]
        fc1 {
            #[var(constraint = non_neg)]
            kernel: [n, n],
            bias: [n] = zeros,
        }
        #[var(regularizer = Regularizer::l1(0.1).unwrap(), constraint = clip_by_value(-1, 1))]
        out: [n],
    }
}

fn main() {}
