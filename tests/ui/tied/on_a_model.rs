use scope::{model, Variable};

model! {
    pub struct Dense("dense", width: usize) {
        kernel: [width, width],
    }

    pub struct Head("predictions", table: Variable) {
        #[model(tied = table)]
        transform: model Dense(4),
    }
}

fn main() {}
