// Mistakes inside `macro_rules!` fragments are reported under the caller's tokens.
use scope::Variable;

macro_rules! dense {
    ($name:ident, $f:ident: $shape:expr, $init:expr) => {
        scope::model! {
            pub struct $name("dense", k: usize) {
                $f: $shape = $init,
            }
        }
    };
}

dense!(NotAShape, weights: 5, zeros);
dense!(BadInit, weights: [k], normal(0.0, 1.0));

macro_rules! attr {
    ($name:ident, $f:ident: $ty:ty) => {
        #[scope::variable_scope("layer")]
        pub struct $name {
            #[var(shape = [2])]
            pub $f: $ty,
        }
    };
}

attr!(NotAVariable, weights: Vec<u8>);

fn main() {
    let _: Option<Variable> = None;
}
